#include "triggers/http_transport.h"

#include "triggers/curl_library.h"


#include <algorithm>

#include <fmt/format.h>

#include "triggers/dispatch_outcome.h"

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
      while (!value.empty() &&
             (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
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
  const CurlLibrary& library;
  CURL* handle = library.easy_init();
  curl_slist* headers = nullptr;
  explicit Curl(const CurlLibrary& loaded) : library(loaded) {}
  ~Curl() {
    library.slist_free_all(headers);
    library.easy_cleanup(handle);
  }
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
};

}  // namespace

CurlTransport::CurlTransport() { static_cast<void>(curl_library()); }

Expected<HttpClientResponse> CurlTransport::send(const HttpClientRequest& request,
                                                 std::stop_token stop) const {
  const auto library = curl_library();
  if (!library) {
    return std::unexpected(library.error());
  }
  const CurlLibrary& lib = **library;
  Curl curl(lib);
  if (curl.handle == nullptr) {
    return fail("cannot create a curl handle");
  }
  for (const auto& [name, value] : request.headers) {
    // The caller has refused values with line breaks.
    curl.headers = lib.slist_append(curl.headers, fmt::format("{}: {}", name, value).c_str());
  }
  curl.headers = lib.slist_append(curl.headers, "Expect:");

  Transfer transfer;
  transfer.stop = stop;
  CURL* handle = curl.handle;
  const long timeout_ms = static_cast<long>(std::chrono::milliseconds(request.timeout).count());
  lib.easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  lib.easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.body) {
    lib.easy_setopt(handle, CURLOPT_POSTFIELDS, request.body->c_str());
    lib.easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                    static_cast<curl_off_t>(request.body->size()));
  }
  lib.easy_setopt(handle, CURLOPT_HTTPHEADER, curl.headers);
  lib.easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  lib.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
  lib.easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  lib.easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  lib.easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  lib.easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
  lib.easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  lib.easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
  lib.easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  lib.easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  lib.easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, on_progress);
  lib.easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);

  const CURLcode result = lib.easy_perform(handle);
  if (result != CURLE_OK) {
    return fail(result == CURLE_ABORTED_BY_CALLBACK ? std::string(kStoppedMessage)
                                                    : std::string(lib.easy_strerror(result)));
  }
  HttpClientResponse response;
  lib.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(transfer.body);
  response.retry_after = std::move(transfer.retry_after);
  return response;
}

}  // namespace gapwatch
