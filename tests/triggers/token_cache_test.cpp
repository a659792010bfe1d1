// TokenCache with a manual clock and a counting fetch: when tokens are reused,
// when they are fetched again, and that concurrent deliveries share a fetch.
#include "triggers/token_cache.h"

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::seconds;
using testing::at;
using testing::error_of;
using testing::value_of;

// Hands out token-1, token-2, … each valid for `lifetime` from the clock's now.
struct CountingFetch {
  const ManualClock& clock;
  seconds lifetime;
  int calls = 0;

  TokenCache::Fetch function() {
    return [this]() -> Expected<AccessToken> {
      ++calls;
      return AccessToken{"token-" + std::to_string(calls), clock.now() + lifetime};
    };
  }
};

TEST_CASE("token cache: a token is reused until a minute before it expires") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock);
  CountingFetch fetch{clock, seconds{3600}};
  CHECK(value_of(cache.token(fetch.function())) == "token-1");
  clock.advance(seconds{3539});
  CHECK(value_of(cache.token(fetch.function())) == "token-1");
  CHECK(fetch.calls == 1);
  clock.advance(seconds{1});  // 60 s before expiry
  CHECK(value_of(cache.token(fetch.function())) == "token-2");
  CHECK(fetch.calls == 2);
}

TEST_CASE("token cache: a short-lived token is refreshed at half its lifetime") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock);
  CountingFetch fetch{clock, seconds{40}};
  CHECK(value_of(cache.token(fetch.function())) == "token-1");
  clock.advance(seconds{19});
  CHECK(value_of(cache.token(fetch.function())) == "token-1");
  clock.advance(seconds{1});
  CHECK(value_of(cache.token(fetch.function())) == "token-2");
}

TEST_CASE("token cache: a token already expired on arrival is used once, then fetched again") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock);
  CountingFetch fetch{clock, seconds{0}};
  CHECK(value_of(cache.token(fetch.function())) == "token-1");
  CHECK(value_of(cache.token(fetch.function())) == "token-2");
}

TEST_CASE("token cache: the refresh margin is configurable") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock, seconds{300});
  CountingFetch fetch{clock, seconds{3600}};
  static_cast<void>(cache.token(fetch.function()));
  clock.advance(seconds{3299});
  static_cast<void>(cache.token(fetch.function()));
  CHECK(fetch.calls == 1);
  clock.advance(seconds{1});
  static_cast<void>(cache.token(fetch.function()));
  CHECK(fetch.calls == 2);
}

TEST_CASE("token cache: a failed fetch is not cached; the next call tries again") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock);
  int calls = 0;
  const TokenCache::Fetch flaky = [&]() -> Expected<AccessToken> {
    if (++calls == 1) {
      return fail("the token endpoint answered HTTP 503");
    }
    return AccessToken{"fresh", clock.now() + seconds{3600}};
  };
  CHECK(error_of(cache.token(flaky)) == "the token endpoint answered HTTP 503");
  CHECK(value_of(cache.token(flaky)) == "fresh");
  CHECK(value_of(cache.token(flaky)) == "fresh");
  CHECK(calls == 2);
}

TEST_CASE("token cache: a failed refresh keeps using the old token until it expires") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock);
  bool down = false;
  const TokenCache::Fetch fetch = [&]() -> Expected<AccessToken> {
    if (down) {
      return fail("connection refused");
    }
    return AccessToken{"first", clock.now() + seconds{120}};
  };
  CHECK(value_of(cache.token(fetch)) == "first");
  clock.advance(seconds{60});  // due for refresh, still valid
  down = true;
  CHECK(value_of(cache.token(fetch)) == "first");
  clock.advance(seconds{59});
  CHECK(value_of(cache.token(fetch)) == "first");
  clock.advance(seconds{1});  // expired
  CHECK(error_of(cache.token(fetch)) == "connection refused");
}

TEST_CASE("token cache: invalidate drops the refused token, not a newer one") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock);
  CountingFetch fetch{clock, seconds{3600}};
  CHECK(value_of(cache.token(fetch.function())) == "token-1");
  cache.invalidate("token-1");
  CHECK(value_of(cache.token(fetch.function())) == "token-2");
  // A delivery that still held token-1 reports its 401 late: token-2 stays.
  cache.invalidate("token-1");
  CHECK(value_of(cache.token(fetch.function())) == "token-2");
  CHECK(fetch.calls == 2);
}

TEST_CASE("token cache: deliveries needing a token at once share one fetch") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  TokenCache cache(clock);
  std::atomic<int> calls{0};
  // The first fetch is held open until every delivery has been started, so
  // that they ask for the token while it is being fetched (or, if a thread
  // starts late, after it was cached): either way one fetch serves them all.
  std::promise<void> all_started;
  std::shared_future<void> started = all_started.get_future().share();
  const TokenCache::Fetch held = [&]() -> Expected<AccessToken> {
    ++calls;
    started.wait();
    return AccessToken{"shared", clock.now() + seconds{3600}};
  };
  std::vector<std::string> seen(8);
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      threads.emplace_back([&, i] { seen[i] = cache.token(held).value_or("error"); });
    }
    all_started.set_value();
  }
  CHECK(calls == 1);
  for (const std::string& token : seen) {
    CHECK(token == "shared");
  }
}

}  // namespace
}  // namespace gapwatch
