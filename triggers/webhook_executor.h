// WebhookExecutor: one HTTP request per backfill request, with libcurl. The
// URL's template values are percent-encoded, headers must not contain line
// breaks, and the body is JSON built from the template tree. Redirects are
// not followed, TLS is verified, the timeout is enforced. Every request
// carries Idempotency-Key: <request_id>; with a signing secret also the
// Standard Webhooks headers. Success codes → accepted; network errors, 408,
// 429 and 5xx → retry (honouring Retry-After); other codes → rejected.
// Thread-safe (one curl handle per call).
#pragma once

#include "triggers/executor.h"

namespace gapwatch {

class WebhookExecutor final : public Executor {
 public:
  WebhookExecutor(WebhookSpec spec, const Clock& clock);
  DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) override;

 private:
  const WebhookSpec m_spec;
  const Clock& m_clock;
};

// Seconds from a Retry-After value: delta-seconds or an HTTP date.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, Instant now);

}  // namespace gapwatch
