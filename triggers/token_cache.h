// TokenCache: one access token shared by every delivery of an executor, kept
// until shortly before it expires (a minute, or half its lifetime if that is
// shorter) and then fetched again. Fetching is the caller's function, so the
// cache itself does no I/O; time comes from the injected Clock. A failed fetch
// is not cached: the next delivery tries again (meanwhile a token that has not
// expired yet is still used). Thread-safe: m_mutex is held across a fetch, so
// there is one fetch at a time, and deliveries that need a token meanwhile
// wait for it rather than each asking the endpoint.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rules/clock.h"
#include "rules/error.h"
#include "rules/mutex.h"
#include "triggers/auth.h"

namespace gapwatch {

constexpr std::chrono::seconds kTokenRefreshMargin{60};

class TokenCache {
 public:
  using Fetch = std::function<Expected<AccessToken>()>;

  explicit TokenCache(const Clock& clock, std::chrono::seconds refresh_margin = kTokenRefreshMargin)
      : m_clock(clock), m_refresh_margin(refresh_margin) {}

  // The cached token while it is fresh; otherwise a new one from `fetch`.
  Expected<std::string> token(const Fetch& fetch);

  // Forgets `token` if it is the one cached (the target refused it, so it was
  // revoked or expired early); a newer token is kept.
  void invalidate(std::string_view token);

 private:
  const Clock& m_clock;
  const std::chrono::seconds m_refresh_margin;
  Mutex m_mutex;
  std::optional<std::string> m_token GUARDED_BY(m_mutex);
  Instant m_refresh_at GUARDED_BY(m_mutex);  // fetch again from then on
  Instant m_expires_at GUARDED_BY(m_mutex);
};

}  // namespace gapwatch
