// HttpServer: the one embedded HTTP server (civetweb), bound to
// monitor.listen (127.0.0.1:9464 by default). It turns each request into an
// HttpRequest for a handler and writes the HttpResponse back; bodies over
// 1 MiB are refused before they are read. The handler runs on civetweb's
// threads and must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "rules/error.h"

struct mg_context;
struct mg_connection;

namespace gapwatch {

struct HttpRequest {
  std::string method;
  std::string path;  // decoded, without the query
  std::map<std::string, std::string> query;
  std::string authorization;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  // Set instead of `body` for a body too large to hold whole (the /metrics
  // page of thousands of rules): called once with a writer that sends each
  // piece as it is produced (chunked transfer encoding for HTTP/1.1). The
  // writer returns false once the client is gone: stop producing then.
  using Writer = std::function<bool(std::string_view)>;
  std::function<void(const Writer&)> stream;
};

// The whole body of a response, streamed or not (tests and fuzzing).
std::string body_of(const HttpResponse& response);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static constexpr std::size_t kMaxBody = std::size_t{1024} * 1024;

  // `listen` is "host:port" (port 0 picks a free one).
  static Expected<std::unique_ptr<HttpServer>> start(const std::string& listen, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return m_port; }

 private:
  explicit HttpServer(Handler handler) : m_handler(std::move(handler)) {}
  static int handle(::mg_connection* connection, void* self);

  Handler m_handler;
  mg_context* m_context = nullptr;
  int m_port = 0;
};

}  // namespace gapwatch
