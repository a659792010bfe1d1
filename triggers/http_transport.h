// HttpTransport: sends one HTTP request and returns the answer, whatever its
// status. The webhook executor talks to targets and token endpoints through
// it, so tests can replace the network with a scripted fake. CurlTransport is
// the real one: libcurl, no redirects, TLS verified unless turned off, the
// timeout bounding the whole exchange, and an early return when `stop` is
// requested. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "rules/error.h"

namespace gapwatch {

struct HttpClientRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::optional<std::string> body;
  std::chrono::seconds timeout{15};
  bool verify_tls = true;
};

struct HttpClientResponse {
  long status = 0;
  std::string body;         // the first kMaxCapturedOutput bytes
  std::string retry_after;  // the Retry-After header as sent, or empty
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP answer is a response; no answer (refused, timed out, stopped,
  // TLS failure) is an Error saying why.
  virtual Expected<HttpClientResponse> send(const HttpClientRequest& request,
                                            std::stop_token stop) const = 0;
};

class CurlTransport final : public HttpTransport {
 public:
  // Loads libcurl (curl_library.h) here, on the thread that builds the
  // executors before any delivery starts: curl_global_init is not safe
  // beside other threads in older libcurl. If it cannot be loaded, each send
  // tries again and fails saying why.
  CurlTransport();
  Expected<HttpClientResponse> send(const HttpClientRequest& request,
                                    std::stop_token stop) const override;
};

// The message of a send() that ended because `stop` was requested.
inline constexpr std::string_view kStoppedMessage = "stopped: gapwatch is shutting down";

}  // namespace gapwatch
