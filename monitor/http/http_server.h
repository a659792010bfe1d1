// HttpServer: the one embedded HTTP server (GNU libmicrohttpd), bound to
// monitor.listen (127.0.0.1:9464 by default). It turns each request into an
// HttpRequest for a handler and writes the HttpResponse back; bodies over
// 1 MiB are refused before they are read.
//
// What a client can hold is bounded (see Limits): one event loop thread
// reads and writes every socket, so an idle or half-sent request costs a
// socket and a few KiB, never a thread; requests whose headers are not in
// within `header_timeout` are closed; at most `max_connections` are open at
// once (more wait in the kernel's listen queue until one closes). Handlers
// run on kWorkers threads of their own, and a streamed body is produced on
// the worker while the loop sends it.
//
// Thread safety: the handler runs on the worker threads, several at once,
// and must be thread-safe. start() and the destructor are called from one
// thread; the destructor waits for handlers and streams in progress.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "rules/error.h"

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

// What one client may hold. The defaults are the daemon's; tests shorten
// them.
struct HttpServerLimits {
  // Connections open at once, idle ones included; more wait, not
  // accepted, in the kernel's listen queue until one closes.
  unsigned max_connections = 256;
  // From the connection's accept to the end of the request's headers,
  // however the client trickles them.
  std::chrono::milliseconds header_timeout{5000};
  // A connection on which nothing was received or sent for this long is
  // closed (a client that stopped sending its body or reading the reply).
  std::chrono::seconds idle_timeout{10};
  // From the end of the headers to the end of the response (a scraper
  // that reads a long body too slowly is cut off).
  std::chrono::milliseconds exchange_timeout{60'000};
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static constexpr std::size_t kMaxBody = std::size_t{1024} * 1024;
  // Threads that run the handler (and produce streamed bodies).
  static constexpr int kWorkers = 8;
  // Streamed bodies in progress at once (each holds a worker and a piece of
  // a few hundred KiB); one more is answered 503. The other workers stay
  // free for /healthz and the API however slowly scrapers read.
  static constexpr int kMaxStreams = kWorkers / 2;

  using Limits = HttpServerLimits;

  // `listen` is "host:port" (port 0 picks a free one).
  static Expected<std::unique_ptr<HttpServer>> start(const std::string& listen, Handler handler,
                                                     Limits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return m_port; }

 private:
  class Engine;  // libmicrohttpd, the event loop and the workers
  HttpServer() = default;

  std::unique_ptr<Engine> m_engine;
  int m_port = 0;
};

}  // namespace gapwatch
