// HttpServer through real sockets on 127.0.0.1: what slow, idle and
// incomplete clients can and cannot do to it (issue 14, item 3), and the
// framing it must keep (413 before the body is read, HEAD, chunked for
// HTTP/1.1, until-close for HTTP/1.0). These wait on the network with
// deadlines, so they are an integration test, not a unit test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "monitor/http/http_server.h"

namespace gapwatch::testing {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A connected socket, closed when it goes.
class Socket {
 public:
  explicit Socket(int port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~Socket() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void send(std::string_view text) const {
    while (!text.empty()) {
      const ssize_t sent = ::send(m_fd, text.data(), text.size(), MSG_NOSIGNAL);
      REQUIRE(sent > 0);
      text.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // Everything the server sends until it closes the connection, or nothing
  // if it has not closed it by `deadline`.
  std::optional<std::string> read_to_end(Clock::time_point deadline) const {
    std::string received;
    char buffer[65536];
    while (true) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      pollfd ready{m_fd, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      const ssize_t got = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (got <= 0) {
        return received;  // closed (or reset, which also ends it)
      }
      received.append(buffer, static_cast<std::size_t>(got));
    }
  }

  // Whether the server closed the connection by `deadline` (what it sent
  // before is read and dropped).
  bool closed_by(Clock::time_point deadline) const { return read_to_end(deadline).has_value(); }

  int fd() const { return m_fd; }

 private:
  int m_fd = -1;
};

struct Reply {
  std::string head;  // status line and headers
  std::string body;  // as sent (chunks not decoded)
};

std::optional<Reply> split(const std::optional<std::string>& raw) {
  if (!raw) {
    return std::nullopt;
  }
  const std::size_t end = raw->find("\r\n\r\n");
  if (end == std::string::npos) {
    return Reply{*raw, ""};
  }
  return Reply{raw->substr(0, end + 2), raw->substr(end + 4)};
}

// One request on a new connection, answered (and closed) within `within`.
std::optional<Reply> ask(int port, std::string_view request, milliseconds within) {
  const Socket socket(port);
  socket.send(request);
  return split(socket.read_to_end(Clock::now() + within));
}

std::string get(std::string_view path, std::string_view version = "1.1") {
  return fmt::format("GET {} HTTP/{}\r\nHost: x\r\n\r\n", path, version);
}

// The body the test server streams at /metrics: `pieces` pieces of 1 KiB.
std::string streamed_piece(int index) { return fmt::format("{:<1023}\n", index); }

HttpResponse test_handler(const HttpRequest& request) {
  if (request.path == "/metrics") {
    HttpResponse response{200, "text/plain", {}, {}, {}};
    response.stream = [](const HttpResponse::Writer& write) {
      for (int i = 0; i < 64 && write(streamed_piece(i)); ++i) {
      }
    };
    return response;
  }
  if (request.path == "/echo") {
    std::string query;
    for (const auto& [name, value] : request.query) {
      query += name + "=" + value + ";";
    }
    HttpResponse response{200, "text/plain",
                          fmt::format("{} {} [{}] [{}] {}", request.method, request.path, query,
                                      request.authorization, request.body.size()),
                          {{"X-Test", "yes"}},
                          {}};
    return response;
  }
  return HttpResponse{200, "application/json", R"({"status":"alive"})", {}, {}};
}

std::unique_ptr<HttpServer> start_server(HttpServer::Limits limits = {}) {
  auto server = HttpServer::start("127.0.0.1:0", test_handler, limits);
  REQUIRE(server);
  REQUIRE((*server)->port() > 0);
  return std::move(*server);
}

std::string expected_metrics_body() {
  std::string body;
  for (int i = 0; i < 64; ++i) {
    body += streamed_piece(i);
  }
  return body;
}

// A chunked body decoded (CHECKs that it is well formed and complete).
std::string dechunk(std::string_view body) {
  std::string out;
  while (true) {
    const std::size_t line_end = body.find("\r\n");
    REQUIRE(line_end != std::string_view::npos);
    const std::size_t size = std::stoul(std::string(body.substr(0, line_end)), nullptr, 16);
    body.remove_prefix(line_end + 2);
    if (size == 0) {
      return out;
    }
    REQUIRE(body.size() >= size + 2);
    out.append(body.substr(0, size));
    body.remove_prefix(size + 2);
  }
}

}  // namespace

TEST_CASE("http server: /healthz and /metrics answer within 1 s while 200 idle and incomplete "
          "connections are open") {
  const auto server = start_server();
  std::vector<std::unique_ptr<Socket>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<Socket>(server->port()));
    if (i % 2 == 0) {
      slow.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never ends the headers
    }
  }
  const auto started = Clock::now();
  const auto health = ask(server->port(), get("/healthz"), milliseconds{1000});
  const auto health_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
  MESSAGE("/healthz with 200 slow connections open: ",
          health ? fmt::format("answered in {} ms", health_ms) : "no answer within 1 s");
  REQUIRE(health);
  CHECK(health->head.starts_with("HTTP/1.1 200"));
  CHECK(health->body == R"({"status":"alive"})");

  const auto metrics = ask(server->port(), get("/metrics"), milliseconds{1000});
  REQUIRE(metrics);
  CHECK(metrics->head.starts_with("HTTP/1.1 200"));
  CHECK(dechunk(metrics->body) == expected_metrics_body());
}

TEST_CASE("http server: an incomplete request is closed after the header timeout, even one "
          "that trickles") {
  HttpServer::Limits limits;
  limits.header_timeout = milliseconds{500};
  const auto server = start_server(limits);
  const auto opened = Clock::now();
  const Socket silent(server->port());
  silent.send("GET /healthz HTTP/1.1\r\n");
  const Socket trickling(server->port());
  trickling.send("GET /healthz HTTP/1.1\r\n");
  // A header line every 100 ms: never idle, never done.
  const auto deadline = Clock::now() + milliseconds{5000};
  bool trickler_closed = false;
  for (int i = 0; i < 50 && !trickler_closed; ++i) {
    if (::send(trickling.fd(), "X: y\r\n", 6, MSG_NOSIGNAL) < 0) {
      trickler_closed = true;  // the server closed it (EPIPE or reset)
      break;
    }
    trickler_closed = trickling.closed_by(Clock::now() + milliseconds{100});
  }
  CHECK(trickler_closed);
  MESSAGE("a trickling header closed after ",
          std::chrono::duration_cast<milliseconds>(Clock::now() - opened).count(),
          " ms (header timeout 500 ms)");
  CHECK(silent.closed_by(deadline));
  CHECK(ask(server->port(), get("/healthz"), milliseconds{1000}));
}

TEST_CASE("http server: beyond the bound a connection waits unanswered, and is served once one "
          "of the open ones goes") {
  HttpServer::Limits limits;
  limits.max_connections = 8;
  const auto server = start_server(limits);
  std::vector<std::unique_ptr<Socket>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<Socket>(server->port()));
  }
  const Socket extra(server->port());  // queued by the kernel, not accepted
  extra.send(get("/healthz"));
  CHECK_FALSE(extra.closed_by(Clock::now() + milliseconds{500}));
  idle.pop_back();
  const auto reply = split(extra.read_to_end(Clock::now() + milliseconds{2000}));
  REQUIRE(reply);
  CHECK(reply->head.starts_with("HTTP/1.1 200"));
}

// A server whose /metrics streams up to 1 GiB, far more than the socket
// buffers hold, and tells how many MiB it wrote before the writer said stop.
struct EndlessStream {
  explicit EndlessStream(HttpServer::Limits limits) {
    auto started = HttpServer::start(
        "127.0.0.1:0",
        [this](const HttpRequest& request) {
          if (request.path != "/metrics") {
            return HttpResponse{200, "application/json", R"({"status":"alive"})", {}, {}};
          }
          HttpResponse response{200, "text/plain", {}, {}, {}};
          response.stream = [this](const HttpResponse::Writer& write) {
            const std::string piece(std::size_t{1024} * 1024, 'x');
            int written = 0;
            while (written < 1024 && write(piece)) {
              ++written;
            }
            finished.set_value(written);
          };
          return response;
        },
        limits);
    REQUIRE(started);
    server = std::move(*started);
  }
  std::promise<int> finished;
  std::unique_ptr<HttpServer> server;
};

TEST_CASE("http server: a client that stops reading a streamed body is dropped after the idle "
          "timeout") {
  HttpServer::Limits limits;
  limits.idle_timeout = std::chrono::seconds{1};
  EndlessStream endless(limits);
  auto written = endless.finished.get_future();
  const auto asked = Clock::now();
  const Socket reader(endless.server->port());
  reader.send(get("/metrics"));  // and never reads
  REQUIRE(written.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
  MESSAGE("a reader that stopped was dropped after ",
          std::chrono::duration_cast<milliseconds>(Clock::now() - asked).count(),
          " ms (idle timeout 1 s)");
  CHECK(written.get() < 1024);
  CHECK(ask(endless.server->port(), get("/healthz"), milliseconds{1000}));
}

TEST_CASE("http server: a client that reads a streamed body too slowly is cut off at the "
          "exchange timeout") {
  HttpServer::Limits limits;
  limits.exchange_timeout = milliseconds{1000};
  EndlessStream endless(limits);
  auto written = endless.finished.get_future();
  const auto asked = Clock::now();
  const Socket reader(endless.server->port());
  reader.send(get("/metrics"));
  // 1 KiB every 20 ms: never idle for long, and a GiB would take 6 hours.
  const auto deadline = Clock::now() + std::chrono::seconds{10};
  char buffer[1024];
  while (written.wait_for(milliseconds{20}) != std::future_status::ready &&
         Clock::now() < deadline) {
    if (::recv(reader.fd(), buffer, sizeof buffer, MSG_DONTWAIT) == 0) {
      break;  // closed
    }
  }
  REQUIRE(written.wait_for(std::chrono::seconds{1}) == std::future_status::ready);
  MESSAGE("a reader at 50 KiB/s was cut off after ",
          std::chrono::duration_cast<milliseconds>(Clock::now() - asked).count(),
          " ms (exchange timeout 1 s)");
  CHECK(written.get() < 1024);
}

TEST_CASE("http server: a body over 1 MiB is refused with 413 before it is read") {
  const auto server = start_server();
  const auto reply = ask(server->port(),
                         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
                         milliseconds{2000});
  REQUIRE(reply);
  CHECK(reply->head.starts_with("HTTP/1.1 413"));
  CHECK(reply->body == R"({"error":"the request body is larger than 1 MiB"})");
}

TEST_CASE("http server: a chunked body over 1 MiB is refused with 413, not kept") {
  const auto server = start_server();
  const Socket socket(server->port());
  socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  // 2 MiB: what is past 1 MiB is read and dropped, and the handler never
  // sees the body.
  const std::string chunk = fmt::format("{:x}\r\n{}\r\n", 65536, std::string(65536, 'a'));
  for (int i = 0; i < 32; ++i) {
    socket.send(chunk);
  }
  socket.send("0\r\n\r\n");
  const auto reply = split(socket.read_to_end(Clock::now() + milliseconds{2000}));
  REQUIRE(reply);
  CHECK(reply->head.starts_with("HTTP/1.1 413"));
}

TEST_CASE("http server: a request reaches the handler decoded, with its body and authorization") {
  const auto server = start_server();
  const auto reply =
      ask(server->port(),
          "POST /ec%68o?a=1&b=x+y%21 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
          "Content-Length: 5\r\n\r\nhello",
          milliseconds{2000});
  REQUIRE(reply);
  CHECK(reply->head.starts_with("HTTP/1.1 200"));
  CHECK(reply->body == "POST /echo [a=1;b=x y!;] [Bearer t] 5");
  CHECK(reply->head.find("\r\nX-Test: yes\r\n") != std::string::npos);
  CHECK(reply->head.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(reply->head.find("\r\nCache-Control: no-store\r\n") != std::string::npos);
  CHECK(reply->head.find("\r\nX-Content-Type-Options: nosniff\r\n") != std::string::npos);
  CHECK(reply->head.find("\r\nContent-Length: 37\r\n") != std::string::npos);
}

TEST_CASE("http server: a streamed body is chunked for HTTP/1.1, sent until close for HTTP/1.0, "
          "and left out for HEAD") {
  const auto server = start_server();
  const auto chunked = ask(server->port(), get("/metrics"), milliseconds{2000});
  REQUIRE(chunked);
  CHECK(chunked->head.find("\r\nTransfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(dechunk(chunked->body) == expected_metrics_body());

  const auto until_close = ask(server->port(), get("/metrics", "1.0"), milliseconds{2000});
  REQUIRE(until_close);
  CHECK(until_close->head.find("Transfer-Encoding") == std::string::npos);
  CHECK(until_close->body == expected_metrics_body());

  const auto head =
      ask(server->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", milliseconds{2000});
  REQUIRE(head);
  CHECK(head->head.starts_with("HTTP/1.1 200"));
  CHECK(head->body.empty());
}

}  // namespace gapwatch::testing
