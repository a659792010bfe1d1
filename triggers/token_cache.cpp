// TokenCache: one access token per executor, fetched again before it
// expires (see token_cache.h).
#include "triggers/token_cache.h"

#include <algorithm>

namespace gapwatch {

Expected<std::string> TokenCache::token(const Fetch& fetch) {
  MutexLock lock(m_mutex);
  const Instant now = m_clock.now();
  if (m_token && now < m_refresh_at) {
    return *m_token;
  }
  auto fetched = fetch();
  if (!fetched) {
    // An endpoint hiccup during the refresh margin need not fail a delivery
    // the old token can still make.
    if (m_token && m_clock.now() < m_expires_at) {
      return *m_token;
    }
    m_token.reset();
    return std::unexpected(fetched.error());
  }
  // The clock is read again: the fetch may have taken a while.
  const Instant received = m_clock.now();
  const auto lifetime = std::max(fetched->expires_at - received, std::chrono::seconds{0});
  m_refresh_at = fetched->expires_at - std::min(m_refresh_margin, lifetime / 2);
  m_expires_at = fetched->expires_at;
  m_token = fetched->value;
  return std::move(fetched->value);
}

void TokenCache::invalidate(std::string_view token) {
  MutexLock lock(m_mutex);
  if (m_token && *m_token == token) {
    m_token.reset();
  }
}

}  // namespace gapwatch
