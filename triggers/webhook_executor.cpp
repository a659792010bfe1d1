#include "triggers/webhook_executor.h"

#include "triggers/curl_library.h"


#include <algorithm>

#include <fmt/format.h>

#include "triggers/redaction.h"
#include "triggers/response_outcome.h"
#include "triggers/webhook_signature.h"

namespace gapwatch {

namespace {

DispatchOutcome rejected(std::string detail) {
  return DispatchOutcome{DispatchOutcome::Kind::rejected, std::move(detail), {}, {}, {}};
}

DispatchOutcome retry(std::string detail) {
  return DispatchOutcome{DispatchOutcome::Kind::retry, std::move(detail), {}, {}, {}};
}

bool has_line_break(std::string_view value) {
  return value.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

WebhookExecutor::WebhookExecutor(WebhookSpec spec, const Clock& clock,
                                 std::shared_ptr<const HttpTransport> transport)
    : m_spec(std::move(spec)), m_clock(clock), m_transport(std::move(transport)) {
  if (uses_access_token(m_spec.auth)) {
    m_tokens = std::make_unique<TokenCache>(m_clock);
  }
}

WebhookExecutor::WebhookExecutor(WebhookSpec spec, const Clock& clock)
    : WebhookExecutor(std::move(spec), clock, std::make_shared<CurlTransport>()) {}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, Instant now) {
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) {
      return std::chrono::seconds{999999999};
    }
    return std::chrono::seconds{std::stoll(std::string(value))};
  }
  const auto curl = curl_library();
  if (!curl) {
    return std::nullopt;  // without libcurl, an HTTP-date is not read
  }
  const std::string text(value);
  const time_t date = (*curl)->getdate(text.c_str(), nullptr);
  if (date < 0) {
    return std::nullopt;
  }
  const auto delay = std::chrono::seconds{date} - now.time_since_epoch();
  return std::max(delay, std::chrono::seconds{0});
}

Expected<HttpClientRequest> WebhookExecutor::target_request(const BackfillRequest& request) const {
  HttpClientRequest http;
  http.timeout = m_spec.timeout;
  http.verify_tls = m_spec.verify_tls;
  for (const auto& [name, value] : m_spec.headers) {
    auto expanded = value.expand(request.values, Template::Encoding::raw);
    if (!expanded) {
      return std::unexpected(expanded.error());
    }
    if (has_line_break(*expanded)) {
      return fail(fmt::format("header {} would contain a line break", name));
    }
    http.headers.emplace_back(name, std::move(*expanded));
  }
  std::optional<nlohmann::json> body;
  if (m_spec.preset) {
    auto built = build_preset_request(*m_spec.preset, request);
    if (!built) {
      return std::unexpected(built.error());
    }
    http.method = std::move(built->method);
    http.url = std::move(built->url);
    for (auto& [name, value] : built->headers) {
      if (has_line_break(value)) {
        return fail(fmt::format("header {} would contain a line break", name));
      }
      http.headers.emplace_back(std::move(name), std::move(value));
    }
    http.headers.emplace_back("Accept", "application/json");
    body = std::move(built->body);
  } else {
    auto url = m_spec.url.expand(request.values, Template::Encoding::url_component);
    if (!url) {
      return std::unexpected(url.error());
    }
    http.method = m_spec.method;
    http.url = std::move(*url);
    if (m_spec.body) {
      auto json = expand_json(*m_spec.body, request.values);
      if (!json) {
        return std::unexpected(json.error());
      }
      body = std::move(*json);
    }
  }
  if (body) {
    auto text = dump_json(*body);
    if (!text) {
      return fail(fmt::format("the body is not valid UTF-8: {}", text.error().message));
    }
    http.body = std::move(*text);
    http.headers.emplace_back("Content-Type", "application/json");
  }
  http.headers.emplace_back("Idempotency-Key", request.id);
  http.headers.emplace_back("User-Agent", "gapwatch/" GAPWATCH_VERSION);
  return http;
}

Expected<HttpClientRequest> WebhookExecutor::preset_exchange(PresetRequest built) const {
  HttpClientRequest http;
  http.timeout = m_spec.timeout;
  http.verify_tls = m_spec.verify_tls;
  http.method = std::move(built.method);
  http.url = std::move(built.url);
  for (auto& [name, value] : built.headers) {
    if (has_line_break(value)) {
      return fail(fmt::format("header {} would contain a line break", name));
    }
    http.headers.emplace_back(std::move(name), std::move(value));
  }
  http.headers.emplace_back("Accept", "application/json");
  if (!built.body.is_null()) {
    auto text = dump_json(built.body);
    if (!text) {
      return fail(fmt::format("the body is not valid UTF-8: {}", text.error().message));
    }
    http.body = std::move(*text);
    http.headers.emplace_back("Content-Type", "application/json");
  }
  http.headers.emplace_back("User-Agent", "gapwatch/" GAPWATCH_VERSION);
  return http;
}

DispatchOutcome WebhookExecutor::follow_up(const BackfillRequest& request,
                                           const HttpClientResponse& answer, PresetRequest built,
                                           const Credentials& credentials, std::stop_token stop) {
  auto http = preset_exchange(std::move(built));
  if (!http) {
    return retry(fmt::format("HTTP {}, and the follow-up cannot be built: {}", answer.status,
                             http.error().message));
  }
  if (credentials.authorization) {
    http->headers.emplace_back("Authorization", *credentials.authorization);
  }
  const auto response = m_transport->send(*http, stop);
  if (!response) {
    return retry(fmt::format("HTTP {}, and the follow-up {} {} failed: {}", answer.status,
                             http->method, http->url, response.error().message));
  }
  return classify_preset_follow_up(*m_spec.preset, request, answer, *response);
}

Expected<std::string> WebhookExecutor::access_token(std::stop_token stop) {
  const auto fetch = [&]() -> Expected<AccessToken> {
    HttpClientRequest http;
    if (const auto* oauth2 = std::get_if<OAuth2ClientCredentials>(&m_spec.auth)) {
      http = token_request(*oauth2);
    } else {
      http = token_request(std::get<AirflowLogin>(m_spec.auth));
    }
    http.timeout = m_spec.timeout;
    http.verify_tls = m_spec.verify_tls;
    http.headers.emplace_back("User-Agent", "gapwatch/" GAPWATCH_VERSION);
    auto response = m_transport->send(http, stop);
    if (!response) {
      return std::unexpected(response.error());
    }
    return std::holds_alternative<OAuth2ClientCredentials>(m_spec.auth)
               ? parse_oauth2_token_response(*response, m_clock.now())
               : parse_airflow_token_response(*response, m_clock.now());
  };
  return m_tokens->token(fetch);
}

std::vector<std::string> WebhookExecutor::Credentials::secrets() const {
  std::vector<std::string> secrets{token};
  if (authorization) {
    secrets.push_back(*authorization);
  }
  return secrets;
}

Expected<WebhookExecutor::Credentials> WebhookExecutor::credentials(std::stop_token stop) {
  Credentials credentials;
  if (const auto* basic = std::get_if<BasicAuth>(&m_spec.auth)) {
    credentials.authorization = basic_authorization(basic->username, basic->password);
  } else if (const auto* bearer = std::get_if<BearerAuth>(&m_spec.auth)) {
    credentials.authorization = "Bearer " + bearer->token;
  } else if (m_tokens) {
    auto obtained = access_token(stop);
    if (!obtained) {
      return fail(fmt::format("cannot get an access token from {}: {}",
                              token_endpoint(m_spec.auth), obtained.error().message));
    }
    credentials.token = std::move(*obtained);
    credentials.authorization = "Bearer " + credentials.token;
  }
  return credentials;
}

DispatchOutcome WebhookExecutor::dispatch(const BackfillRequest& request, std::stop_token stop) {
  auto http = target_request(request);
  if (!http) {
    return rejected(http.error().message);
  }
  // Credentials are added last, so a request that cannot be built costs no
  // token fetch.
  auto credentials = this->credentials(stop);
  if (!credentials) {
    return retry(credentials.error().message);
  }
  if (credentials->authorization) {
    http->headers.emplace_back("Authorization", *credentials->authorization);
  }
  if (m_spec.signing_secret) {
    const std::int64_t timestamp = m_clock.now().time_since_epoch().count();
    auto signature = webhook_signature(*m_spec.signing_secret, request.id, timestamp,
                                       http->body.value_or(""));
    if (!signature) {
      return rejected(signature.error().message);
    }
    http->headers.emplace_back("webhook-id", request.id);
    http->headers.emplace_back("webhook-timestamp", std::to_string(timestamp));
    http->headers.emplace_back("webhook-signature", *signature);
  }

  const auto response = m_transport->send(*http, stop);
  DispatchOutcome outcome;
  if (!response) {
    outcome = retry(response.error().message);
  } else {
    outcome = m_spec.preset ? classify_preset_response(*m_spec.preset, *response)
                            : classify_by_status(*response, m_spec.success_codes);
    if (m_spec.preset) {
      if (auto second = preset_follow_up(*m_spec.preset, request, *response)) {
        outcome = follow_up(request, *response, std::move(*second), *credentials, stop);
      }
    }
    if (m_tokens && response->status == 401) {
      m_tokens->invalidate(credentials->token);
      outcome.kind = DispatchOutcome::Kind::retry;
      outcome.detail += " (the access token was refused; the next delivery fetches a new one)";
    }
    if (outcome.kind == DispatchOutcome::Kind::retry) {
      outcome.retry_after = parse_retry_after(response->retry_after, m_clock.now());
    }
    if (outcome.kind == DispatchOutcome::Kind::accepted && m_spec.preset && !outcome.run) {
      outcome.run = preset_run(*m_spec.preset, request, *response);
    }
  }
  // A target that echoes the request must not put a token obtained at run
  // time into the logs or the state database (configured secrets are
  // redacted by the dispatcher, but it cannot know this one).
  const auto secrets = credentials->secrets();
  outcome.detail = redact(std::move(outcome.detail), secrets);
  outcome.output = redact(std::move(outcome.output), secrets);
  return outcome;
}

std::optional<RunPoll> WebhookExecutor::poll_run(const BackfillRequest& request, const RunRef& run,
                                                 std::stop_token stop) {
  if (!m_spec.preset) {
    return std::nullopt;
  }
  const auto unreachable = [](std::string detail) {
    return RunPoll{RunPoll::Kind::unreachable, RunState::queued, std::move(detail), std::nullopt};
  };
  auto built = build_run_poll(*m_spec.preset, request, run);
  if (!built) {
    return unreachable(built.error().message);
  }
  auto http = preset_exchange(std::move(*built));
  if (!http) {
    return unreachable(http.error().message);
  }
  auto credentials = this->credentials(stop);
  if (!credentials) {
    return unreachable(credentials.error().message);
  }
  if (credentials->authorization) {
    http->headers.emplace_back("Authorization", *credentials->authorization);
  }
  const auto response = m_transport->send(*http, stop);
  RunPoll poll;
  if (!response) {
    poll = unreachable(response.error().message);
  } else {
    poll = classify_run_poll(*m_spec.preset, *response);
    if (m_tokens && response->status == 401) {
      m_tokens->invalidate(credentials->token);
      poll.kind = RunPoll::Kind::unreachable;
      poll.detail += " (the access token was refused; the next poll fetches a new one)";
    }
    if (poll.kind == RunPoll::Kind::unreachable) {
      poll.retry_after = parse_retry_after(response->retry_after, m_clock.now());
    }
  }
  poll.detail = redact(std::move(poll.detail), credentials->secrets());
  return poll;
}

}  // namespace gapwatch
