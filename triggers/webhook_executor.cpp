#include "triggers/webhook_executor.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include <fmt/format.h>

#include "triggers/webhook_signature.h"

namespace gapwatch {

namespace {

struct Transfer {
  std::string body;
  std::string retry_after;
  std::stop_token stop;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer->body.size() < kMaxCapturedOutput) {
    transfer->body.append(data, std::min(bytes, kMaxCapturedOutput - transfer->body.size()));
  }
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == kName) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      transfer->retry_after = std::string(value);
    }
  }
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->stop.stop_requested() ? 1 : 0;
}

// Owns a curl easy handle and header list.
struct Curl {
  CURL* handle = curl_easy_init();
  curl_slist* headers = nullptr;
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
  }
  Curl() = default;
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
};

bool is_success(const WebhookSpec& spec, long code) {
  if (spec.success_codes.empty()) {
    return code >= 200 && code < 300;
  }
  return std::find(spec.success_codes.begin(), spec.success_codes.end(), code) !=
         spec.success_codes.end();
}

DispatchOutcome rejected(std::string detail) {
  return DispatchOutcome{DispatchOutcome::Kind::rejected, std::move(detail), {}, {}};
}

}  // namespace

WebhookExecutor::WebhookExecutor(WebhookSpec spec, const Clock& clock)
    : m_spec(std::move(spec)), m_clock(clock) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

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
  const std::string text(value);
  const time_t date = curl_getdate(text.c_str(), nullptr);
  if (date < 0) {
    return std::nullopt;
  }
  const auto delay = std::chrono::seconds{date} - now.time_since_epoch();
  return std::max(delay, std::chrono::seconds{0});
}

DispatchOutcome WebhookExecutor::dispatch(const BackfillRequest& request, std::stop_token stop) {
  auto url = m_spec.url.expand(request.values, Template::Encoding::url_component);
  if (!url) {
    return rejected(url.error().message);
  }
  std::string body;
  if (m_spec.body) {
    auto json = expand_json(*m_spec.body, request.values);
    if (!json) {
      return rejected(json.error().message);
    }
    body = json->dump();
  }
  Curl curl;
  if (curl.handle == nullptr) {
    return DispatchOutcome{DispatchOutcome::Kind::retry, "cannot create a curl handle", {}, {}};
  }
  const auto add_header = [&](const std::string& line) {
    curl.headers = curl_slist_append(curl.headers, line.c_str());
  };
  for (const auto& [name, value] : m_spec.headers) {
    auto expanded = value.expand(request.values, Template::Encoding::raw);
    if (!expanded) {
      return rejected(expanded.error().message);
    }
    if (expanded->find_first_of("\r\n") != std::string::npos) {
      return rejected(fmt::format("header {} would contain a line break", name));
    }
    add_header(fmt::format("{}: {}", name, *expanded));
  }
  if (m_spec.body) {
    add_header("Content-Type: application/json");
  }
  add_header("Idempotency-Key: " + request.id);
  add_header("User-Agent: gapwatch/" GAPWATCH_VERSION);
  add_header("Expect:");
  if (m_spec.signing_secret) {
    const std::int64_t timestamp = m_clock.now().time_since_epoch().count();
    auto signature = webhook_signature(*m_spec.signing_secret, request.id, timestamp, body);
    if (!signature) {
      return rejected(signature.error().message);
    }
    add_header("webhook-id: " + request.id);
    add_header(fmt::format("webhook-timestamp: {}", timestamp));
    add_header("webhook-signature: " + *signature);
  }

  Transfer transfer;
  transfer.stop = stop;
  CURL* handle = curl.handle;
  curl_easy_setopt(handle, CURLOPT_URL, url->c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, m_spec.method.c_str());
  if (m_spec.body) {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, curl.headers);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(m_spec.timeout).count()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(m_spec.timeout).count()));
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, m_spec.verify_tls ? 1L : 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, m_spec.verify_tls ? 2L : 0L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);

  const CURLcode result = curl_easy_perform(handle);
  DispatchOutcome outcome;
  outcome.output = transfer.body;
  if (result != CURLE_OK) {
    outcome.kind = DispatchOutcome::Kind::retry;
    outcome.detail = result == CURLE_ABORTED_BY_CALLBACK ? "stopped: gapwatch is shutting down"
                                                         : curl_easy_strerror(result);
    return outcome;
  }
  long code = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
  outcome.detail = fmt::format("HTTP {}", code);
  if (is_success(m_spec, code)) {
    outcome.kind = DispatchOutcome::Kind::accepted;
  } else if (code == 408 || code == 429 || code >= 500) {
    outcome.kind = DispatchOutcome::Kind::retry;
    outcome.retry_after = parse_retry_after(transfer.retry_after, m_clock.now());
  } else {
    outcome.kind = DispatchOutcome::Kind::rejected;
  }
  return outcome;
}

}  // namespace gapwatch
