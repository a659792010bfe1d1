// WebhookExecutor: one HTTP request per delivery of a backfill request. A
// plain webhook sends its templated URL (values percent-encoded), headers (no
// line breaks) and JSON body (built from the template tree); a preset builds
// the request for its orchestrator. Credentials come from the webhook's auth:
// basic and bearer as configured, OAuth2 client credentials and Airflow's
// login through a TokenCache (a token endpoint failure is a retryable
// delivery failure, and a 401 from the target drops the token so the next
// delivery fetches a new one). Every request carries Idempotency-Key:
// <request_id>; with a signing secret also the Standard Webhooks headers.
// An answer a preset cannot judge alone (an Airflow 409) is followed by the
// preset's follow-up request, with the same credentials, in the same delivery.
// A plain webhook's answer is judged by its status (success codes →
// accepted; 408, 429 and 5xx → retry, honouring Retry-After; the rest →
// rejected); a preset's by status and body. Tokens obtained at run time never
// appear in an outcome. The network is behind an HttpTransport, so tests can
// script it. Thread-safe (the transport and token cache are).
#pragma once

#include <memory>

#include "triggers/executor.h"
#include "triggers/http_transport.h"
#include "triggers/token_cache.h"

namespace gapwatch {

class WebhookExecutor final : public Executor {
 public:
  WebhookExecutor(WebhookSpec spec, const Clock& clock,
                  std::shared_ptr<const HttpTransport> transport);
  WebhookExecutor(WebhookSpec spec, const Clock& clock);
  DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) override;
  std::optional<RunPoll> poll_run(const BackfillRequest& request, const RunRef& run,
                                  std::stop_token stop) override;

 private:
  // The credentials an exchange carries, and what they reveal (to be masked
  // in anything the answer echoes back).
  struct Credentials {
    std::optional<std::string> authorization;  // the Authorization header's value
    std::string token;                         // a token obtained at run time
    std::vector<std::string> secrets() const;
  };
  Expected<Credentials> credentials(std::stop_token stop);
  // The request to the target, without credentials.
  Expected<HttpClientRequest> target_request(const BackfillRequest& request) const;
  // A preset's own request (a poll, a follow-up) as an exchange, without credentials.
  Expected<HttpClientRequest> preset_exchange(PresetRequest built) const;
  // The delivery's outcome from `answer` and the preset's follow-up request,
  // sent with the delivery's credentials (webhook_preset.h: preset_follow_up).
  DispatchOutcome follow_up(const BackfillRequest& request, const HttpClientResponse& answer,
                            PresetRequest built, const Credentials& credentials,
                            std::stop_token stop);
  // A token from the cache, fetched from the token endpoint when needed.
  Expected<std::string> access_token(std::stop_token stop);

  const WebhookSpec m_spec;
  const Clock& m_clock;
  const std::shared_ptr<const HttpTransport> m_transport;
  std::unique_ptr<TokenCache> m_tokens;  // only when the auth obtains tokens
};

// Seconds from a Retry-After value: delta-seconds or an HTTP date.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, Instant now);

}  // namespace gapwatch
