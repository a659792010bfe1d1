// HttpServer: GNU libmicrohttpd underneath, requests turned into HttpRequest
// and HttpResponse (see http_server.h).
//
// Why libmicrohttpd and this shape. civetweb (used before, 1.15) gives each
// connection one of num_threads workers for as long as it takes to read the
// request (request_timeout_ms is a deadline on the headers, but a worker
// waits it out): 4 sockets that never ended their headers silenced the
// server, and 60 kept it unreachable for 49 s. More threads only move the
// cliff, and civetweb's send timeout is that same request_timeout_ms, so a
// short header deadline would also cut every slow scrape. libmicrohttpd
// (Debian's 0.9.75) reads and writes every socket from one epoll loop
// (MHD_USE_EPOLL, external polling: the loop is ours, in run_loop), bounds
// the connections (MHD_OPTION_CONNECTION_LIMIT: at the bound it stops
// accepting, so new connections wait in the listen queue) and closes idle
// ones (MHD_OPTION_CONNECTION_TIMEOUT, an inactivity timeout that a client
// trickling a byte at a time defeats; hence our own deadlines, enforced in
// close_overdue_connections from the same loop thread, where a connection's
// socket cannot be closed and reused under us).
//
// A finished request is suspended (MHD_suspend_connection) and handed to a
// worker, which runs the handler and resumes it with the response, so that
// a slow handler never stalls the loop (in external polling libmicrohttpd
// has no wake-up channel of its own: a resume also writes to our eventfd). A streamed body is produced on the
// worker into a BodyPipe that the loop drains through a content reader
// callback; while the pipe is empty the connection is suspended, because
// returning 0 from the callback would make libmicrohttpd spin.
//
// Thread safety: Engine's loop-only members are touched only by the loop
// thread (and by the destructor once the loop has stopped); the job queue
// and the stream count are guarded by m_mutex; a BodyPipe and an Exchange
// guard their shared parts themselves.
#include "monitor/http/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "rules/mutex.h"

namespace gapwatch {

namespace {

using SteadyClock = std::chrono::steady_clock;

// New connections the kernel queues while the server is at its bound.
constexpr int kListenBacklog = 128;
// The largest piece of a streamed body libmicrohttpd asks for at once when
// it sends without chunks (HTTP/1.0).
constexpr std::size_t kStreamBlock = std::size_t{64} * 1024;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Where a URL's text comes from: a '+' is a space in a query, itself in a path.
enum class UrlPart { path, query };

std::string url_decode(std::string_view text, UrlPart part) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (part == UrlPart::query && text[i] == '+') {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

HttpResponse error_response(int status, std::string_view message) {
  return HttpResponse{status, "application/json", fmt::format(R"({{"error":"{}"}})", message), {},
                      {}};
}

HttpResponse too_large() { return error_response(413, "the request body is larger than 1 MiB"); }

// Resumes a suspended connection and wakes the loop: in external polling
// mode libmicrohttpd has no channel of its own to learn of the resume.
void resume(MHD_Connection* connection, int wake) {
  MHD_resume_connection(connection);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake, &one, sizeof one);
}

// How a streamed body ended: whole, or cut short (the producer threw), which
// the client must be able to tell (no last chunk).
enum class Ending { complete, broken };

// A streamed body on its way from the worker that produces it (write, then
// finish) to the loop thread that sends it (read, from libmicrohttpd's
// content reader callback). One piece is in the pipe at a time: write waits
// until the previous one is sent, so memory stays at a piece however large
// the body. When the pipe is empty and the body not finished, read suspends
// the connection and the next write or finish resumes it.
class BodyPipe {
 public:
  // `wake` is the loop's eventfd (see resume).
  BodyPipe(MHD_Connection* connection, int wake) : m_connection(connection), m_wake(wake) {}

  // Producer side. False once the client is gone or the server stops.
  bool write(std::string_view piece) EXCLUDES(m_mutex) {
    bool resume = false;
    {
      MutexLock lock(m_mutex);
      if (piece.empty()) {
        return !m_abandoned;
      }
      while (m_sent < m_piece.size() && !m_abandoned) {
        m_drained.wait(m_mutex);
      }
      if (m_abandoned) {
        return false;
      }
      m_piece.assign(piece);
      m_sent = 0;
      resume = std::exchange(m_suspended, false);
    }
    if (resume) {
      gapwatch::resume(m_connection, m_wake);
    }
    return true;
  }

  void finish(Ending ending) EXCLUDES(m_mutex) {
    bool resume = false;
    {
      MutexLock lock(m_mutex);
      m_ending = ending;
      // Even when abandoned: a connection left suspended would never close.
      resume = std::exchange(m_suspended, false);
    }
    if (resume) {
      gapwatch::resume(m_connection, m_wake);
    }
  }

  // Loop side: libmicrohttpd's content reader callback.
  ssize_t read(char* buffer, std::size_t max) EXCLUDES(m_mutex) {
    MutexLock lock(m_mutex);
    if (m_abandoned) {
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (m_sent < m_piece.size()) {
      const std::size_t count = std::min(max, m_piece.size() - m_sent);
      std::memcpy(buffer, m_piece.data() + m_sent, count);
      m_sent += count;
      if (m_sent == m_piece.size()) {
        m_drained.notify_all();
      }
      return static_cast<ssize_t>(count);
    }
    if (m_ending) {
      return *m_ending == Ending::complete ? MHD_CONTENT_READER_END_OF_STREAM
                                           : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    // Suspended under m_mutex, so that a write cannot resume the connection
    // before it is suspended.
    m_suspended = true;
    MHD_suspend_connection(m_connection);
    return 0;
  }

  // The client is gone (libmicrohttpd freed the response) or the server
  // stops: the producer's next write returns false.
  void abandon() EXCLUDES(m_mutex) {
    MutexLock lock(m_mutex);
    m_abandoned = true;
    m_drained.notify_all();
  }

 private:
  MHD_Connection* const m_connection;
  const int m_wake;
  Mutex m_mutex;
  CondVar m_drained;
  std::string m_piece GUARDED_BY(m_mutex);
  std::size_t m_sent GUARDED_BY(m_mutex) = 0;
  std::optional<Ending> m_ending GUARDED_BY(m_mutex);
  bool m_abandoned GUARDED_BY(m_mutex) = false;
  bool m_suspended GUARDED_BY(m_mutex) = false;
};

ssize_t read_pipe(void* pipe, std::uint64_t /*position*/, char* buffer, std::size_t max) {
  return (*static_cast<std::shared_ptr<BodyPipe>*>(pipe))->read(buffer, max);
}

void free_pipe(void* pipe) {
  auto* owner = static_cast<std::shared_ptr<BodyPipe>*>(pipe);
  (*owner)->abandon();
  delete owner;
}

// The body of the answer to HEAD, never asked for.
ssize_t read_nothing(void*, std::uint64_t, char*, std::size_t) {
  return MHD_CONTENT_READER_END_OF_STREAM;
}

// The head of every response: the handler's content type and headers, and
// no caching, no sniffing, no keep-alive.
void add_headers(MHD_Response* response, const HttpResponse& source) {
  MHD_add_response_header(response, "Content-Type", source.content_type.c_str());
  MHD_add_response_header(response, "Connection", "close");
  MHD_add_response_header(response, "Cache-Control", "no-store");
  MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : source.headers) {
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
}

MHD_Response* buffered(const HttpResponse& source) {
  MHD_Response* response = MHD_create_response_from_buffer(
      source.body.size(), const_cast<char*>(source.body.data()), MHD_RESPMEM_MUST_COPY);
  add_headers(response, source);
  return response;
}

// libmicrohttpd's messages (a refused connection, a malformed request) are
// about clients, not gapwatch: debug.
void log_library_message(void*, const char* format, va_list arguments) {
  char text[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  std::vsnprintf(text, sizeof text, format, arguments);
#pragma GCC diagnostic pop
  std::string_view message(text);
  while (!message.empty() && message.back() == '\n') {
    message.remove_suffix(1);
  }
  spdlog::debug("http: {}", message);
}

// The path and query arrive as sent: they are decoded here, the path
// keeping '+' (libmicrohttpd would decode both alike).
std::size_t keep_escaped(void*, MHD_Connection*, char* text) { return std::strlen(text); }

MHD_Result collect_query(void* query, MHD_ValueKind, const char* key, const char* value) {
  (*static_cast<std::map<std::string, std::string>*>(query))[url_decode(key, UrlPart::query)] =
      value == nullptr ? "" : url_decode(value, UrlPart::query);
  return MHD_YES;
}

// A listening socket for "host:port", or why not.
Expected<int> open_listener(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return fail(fmt::format("cannot listen on {}: not host:port", listen));
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int status = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); status != 0) {
    return fail(fmt::format("cannot listen on {}: {}", listen, gai_strerror(status)));
  }
  std::string why;
  for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
    const int fd = socket(address->ai_family,
                          address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          address->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, address->ai_addr, address->ai_addrlen) == 0 && ::listen(fd, kListenBacklog) == 0) {
      freeaddrinfo(found);
      return fd;
    }
    why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return fail(fmt::format("cannot listen on {}: {}", listen, why));
}

int bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

}  // namespace

class HttpServer::Engine {
 public:
  Engine(Handler handler, Limits limits) : m_handler(std::move(handler)), m_limits(limits) {}
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Takes the listening socket (closed by libmicrohttpd from then on).
  Expected<void> start(int listener);

 private:
  // One connection as the loop tracks it (libmicrohttpd's socket context).
  struct Connection {
    int fd = -1;
    SteadyClock::time_point deadline;  // the headers' until they are in, then the exchange's
    bool shut = false;
  };

  // One request: its fields as they arrive (loop thread), then the
  // response a worker prepared for it, taken by the loop after the resume.
  struct Exchange {
    enum class Stage { receiving, handling, answered };
    ~Exchange() {
      if (prepared != nullptr) {
        MHD_destroy_response(prepared);
      }
    }
    HttpRequest request;
    bool head = false;
    bool body_too_large = false;  // loop thread only
    Stage stage = Stage::receiving;  // loop thread only
    Mutex mutex;
    MHD_Response* prepared GUARDED_BY(mutex) = nullptr;
    unsigned status GUARDED_BY(mutex) = 0;
  };

  struct Job {
    MHD_Connection* connection;
    Exchange* exchange;  // the request's; lives while the connection is suspended
  };

  static MHD_Result answer(void* self, MHD_Connection* connection, const char* url,
                           const char* method, const char* version, const char* upload_data,
                           std::size_t* upload_data_size, void** request_context);
  static void request_completed(void* self, MHD_Connection*, void** request_context,
                                MHD_RequestTerminationCode);
  static void connection_changed(void* self, MHD_Connection* connection, void** socket_context,
                                 MHD_ConnectionNotificationCode code);

  MHD_Result begin(MHD_Connection* connection, const char* url, const char* method,
                   void** request_context);
  static MHD_Result refuse(MHD_Connection* connection, Exchange& exchange,
                           const HttpResponse& response);
  void run_loop();
  // Shuts the socket of each connection past its deadline (libmicrohttpd
  // then sees it end and closes it); the time until the next deadline.
  std::optional<SteadyClock::duration> close_overdue_connections();
  void work() EXCLUDES(m_mutex);
  void respond(const Job& job) EXCLUDES(m_mutex);
  // Runs the handler's stream into `pipe`; the stream count is released.
  void produce(const HttpResponse& response, const std::shared_ptr<BodyPipe>& pipe)
      EXCLUDES(m_mutex);

  const Handler m_handler;
  const Limits m_limits;
  MHD_Daemon* m_daemon = nullptr;
  int m_epoll = -1;  // libmicrohttpd's epoll descriptor and m_wake
  int m_wake = -1;   // an eventfd, written to after a resume and to stop the loop
  std::atomic<bool> m_stop_loop{false};
  std::set<Connection*> m_connections;  // loop thread only
  std::thread m_loop;
  std::vector<std::thread> m_workers;

  Mutex m_mutex;
  CondVar m_work;
  std::deque<Job> m_jobs GUARDED_BY(m_mutex);
  bool m_stopping GUARDED_BY(m_mutex) = false;
  int m_streams GUARDED_BY(m_mutex) = 0;
  std::set<std::shared_ptr<BodyPipe>> m_pipes GUARDED_BY(m_mutex);  // being produced
};

Expected<void> HttpServer::Engine::start(int listener) {
  const unsigned idle_seconds = static_cast<unsigned>(m_limits.idle_timeout.count());
  m_daemon = MHD_start_daemon(
      MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
      &Engine::answer, this,
      MHD_OPTION_EXTERNAL_LOGGER, &log_library_message, nullptr,
      MHD_OPTION_LISTEN_SOCKET, listener,
      MHD_OPTION_CONNECTION_LIMIT, m_limits.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, idle_seconds,
      MHD_OPTION_NOTIFY_CONNECTION, &Engine::connection_changed, this,
      MHD_OPTION_NOTIFY_COMPLETED, &Engine::request_completed, this,
      MHD_OPTION_UNESCAPE_CALLBACK, &keep_escaped, nullptr,
      MHD_OPTION_END);
  if (m_daemon == nullptr) {
    close(listener);
    return fail("cannot start the HTTP server (libmicrohttpd)");
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(m_daemon, MHD_DAEMON_INFO_EPOLL_FD);
  m_epoll = epoll_create1(EPOLL_CLOEXEC);
  m_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (info == nullptr || m_epoll < 0 || m_wake < 0) {
    return fail(fmt::format("cannot start the HTTP server: {}", std::strerror(errno)));
  }
  for (const int fd : {info->epoll_fd, m_wake}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
      return fail(fmt::format("cannot start the HTTP server: {}", std::strerror(errno)));
    }
  }
  m_loop = std::thread([this] { run_loop(); });
  for (int i = 0; i < kWorkers; ++i) {
    m_workers.emplace_back([this] { work(); });
  }
  return {};
}

HttpServer::Engine::~Engine() {
  // The loop stops first, so that no request is handed on; then the
  // workers finish what they hold (streams are cut short) and resume every
  // suspended connection, which libmicrohttpd requires before it stops.
  if (m_loop.joinable()) {
    m_stop_loop = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(m_wake, &one, sizeof one);
    m_loop.join();
  }
  {
    MutexLock lock(m_mutex);
    m_stopping = true;
    for (const auto& pipe : m_pipes) {
      pipe->abandon();
    }
  }
  m_work.notify_all();
  for (std::thread& worker : m_workers) {
    worker.join();
  }
  if (m_daemon != nullptr) {
    MHD_stop_daemon(m_daemon);  // closes every connection and the listener
  }
  for (const int fd : {m_epoll, m_wake}) {
    if (fd >= 0) {
      close(fd);
    }
  }
}

void HttpServer::Engine::run_loop() {
  epoll_event events[2];
  while (!m_stop_loop) {
    // libmicrohttpd adds its sockets to its epoll set in MHD_run, and takes
    // the listening one out while at the bound: it listens again only at
    // its next turn, so a turn that freed a place is followed by another.
    const bool at_bound = m_connections.size() >= m_limits.max_connections;
    MHD_run(m_daemon);
    const bool place_freed = at_bound && m_connections.size() < m_limits.max_connections;
    const std::optional<SteadyClock::duration> next_deadline = close_overdue_connections();
    int timeout_ms = -1;
    MHD_UNSIGNED_LONG_LONG library_timeout = 0;
    if (MHD_get_timeout(m_daemon, &library_timeout) == MHD_YES) {
      timeout_ms = static_cast<int>(std::min<MHD_UNSIGNED_LONG_LONG>(library_timeout, 60'000));
    }
    if (next_deadline) {
      // Rounded up: woken a little late, never early and in a loop.
      const auto until =
          std::chrono::ceil<std::chrono::milliseconds>(*next_deadline).count() + 1;
      const int deadline_ms = static_cast<int>(std::min<long long>(until, 60'000));
      timeout_ms = timeout_ms < 0 ? deadline_ms : std::min(timeout_ms, deadline_ms);
    }
    if (place_freed) {
      timeout_ms = 0;
    }
    if (epoll_wait(m_epoll, events, 2, timeout_ms) < 0 && errno != EINTR) {
      spdlog::error("http: epoll_wait: {}", std::strerror(errno));
      return;
    }
    std::uint64_t wakes = 0;  // reset; the next MHD_run takes the resumed connections
    [[maybe_unused]] const ssize_t got = ::read(m_wake, &wakes, sizeof wakes);
  }
}

std::optional<SteadyClock::duration> HttpServer::Engine::close_overdue_connections() {
  const auto now = SteadyClock::now();
  std::optional<SteadyClock::duration> next;
  for (Connection* connection : m_connections) {
    if (connection->shut) {
      continue;
    }
    if (connection->deadline <= now) {
      // Not close(): libmicrohttpd owns the descriptor; it sees the end of
      // the stream, closes the connection and tells connection_changed.
      shutdown(connection->fd, SHUT_RDWR);
      connection->shut = true;
    } else if (!next || connection->deadline - now < *next) {
      next = connection->deadline - now;
    }
  }
  return next;
}

void HttpServer::Engine::connection_changed(void* self, MHD_Connection* connection,
                                            void** socket_context,
                                            MHD_ConnectionNotificationCode code) {
  auto* engine = static_cast<Engine*>(self);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* tracked = new Connection;
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    tracked->fd = info != nullptr ? info->connect_fd : -1;
    tracked->deadline = SteadyClock::now() + engine->m_limits.header_timeout;
    tracked->shut = tracked->fd < 0;
    engine->m_connections.insert(tracked);
    *socket_context = tracked;
  } else if (auto* tracked = static_cast<Connection*>(*socket_context)) {
    engine->m_connections.erase(tracked);
    delete tracked;
    *socket_context = nullptr;
  }
}

void HttpServer::Engine::request_completed(void*, MHD_Connection*, void** request_context,
                                           MHD_RequestTerminationCode) {
  delete static_cast<Exchange*>(*request_context);
  *request_context = nullptr;
}

MHD_Result HttpServer::Engine::answer(void* self, MHD_Connection* connection, const char* url,
                                      const char* method, const char* /*version*/,
                                      const char* upload_data, std::size_t* upload_data_size,
                                      void** request_context) {
  auto* engine = static_cast<Engine*>(self);
  auto* exchange = static_cast<Exchange*>(*request_context);
  if (exchange == nullptr) {
    return engine->begin(connection, url, method, request_context);
  }
  switch (exchange->stage) {
    case Exchange::Stage::receiving:
      if (*upload_data_size > 0) {
        // A chunked body gives no length up front. libmicrohttpd 0.9.75
        // takes no response while a body arrives: past 1 MiB the rest is
        // dropped as it comes (the exchange timeout bounds how long), and
        // the 413 goes at the end.
        if (exchange->request.body.size() + *upload_data_size > kMaxBody) {
          exchange->body_too_large = true;
          std::string().swap(exchange->request.body);
        }
        if (!exchange->body_too_large) {
          exchange->request.body.append(upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
      }
      if (exchange->body_too_large) {
        return refuse(connection, *exchange, too_large());
      }
      // The whole request is in: a worker answers it while the loop goes on.
      exchange->stage = Exchange::Stage::handling;
      MHD_suspend_connection(connection);
      {
        MutexLock lock(engine->m_mutex);
        engine->m_jobs.push_back(Job{connection, exchange});
      }
      engine->m_work.notify_one();
      return MHD_YES;
    case Exchange::Stage::handling: {
      // Resumed by the worker, which prepared the response.
      MHD_Response* response = nullptr;
      unsigned status = 0;
      {
        MutexLock lock(exchange->mutex);
        response = std::exchange(exchange->prepared, nullptr);
        status = exchange->status;
      }
      if (response == nullptr) {
        return MHD_NO;  // cannot happen: the worker resumes with a response
      }
      exchange->stage = Exchange::Stage::answered;
      const MHD_Result queued = MHD_queue_response(connection, status, response);
      MHD_destroy_response(response);  // libmicrohttpd holds its own reference
      return queued;
    }
    case Exchange::Stage::answered:
      return MHD_YES;
  }
  return MHD_NO;
}

// The headers are in: the exchange's deadline replaces the headers', the
// request's fields are read, and a body announced too large is refused now.
MHD_Result HttpServer::Engine::begin(MHD_Connection* connection, const char* url,
                                     const char* method, void** request_context) {
  if (const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
      info != nullptr && info->socket_context != nullptr) {
    static_cast<Connection*>(info->socket_context)->deadline =
        SteadyClock::now() + m_limits.exchange_timeout;
  }
  auto* exchange = new Exchange;
  *request_context = exchange;
  HttpRequest& request = exchange->request;
  request.method = method;
  request.path = url_decode(url, UrlPart::path);
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &collect_query, &request.query);
  if (const char* authorization =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization")) {
    request.authorization = authorization;
  }
  exchange->head = request.method == "HEAD";
  if (const char* length =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length")) {
    std::uint64_t value = 0;
    const std::string_view text(length);
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (status == std::errc::result_out_of_range || (status == std::errc{} && value > kMaxBody)) {
      return refuse(connection, *exchange, too_large());
    }
  }
  return MHD_YES;
}

// Answers at once from the loop thread (the rest of the body is not read).
MHD_Result HttpServer::Engine::refuse(MHD_Connection* connection, Exchange& exchange,
                                      const HttpResponse& response) {
  exchange.stage = Exchange::Stage::answered;
  MHD_Response* prepared = buffered(response);
  const MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned>(response.status), prepared);
  MHD_destroy_response(prepared);
  return queued;
}

void HttpServer::Engine::work() {
  while (true) {
    Job job{};
    {
      MutexLock lock(m_mutex);
      while (m_jobs.empty() && !m_stopping) {
        m_work.wait(m_mutex);
      }
      if (m_jobs.empty()) {
        return;
      }
      job = m_jobs.front();
      m_jobs.pop_front();
    }
    respond(job);
  }
}

void HttpServer::Engine::respond(const Job& job) {
  const HttpRequest& request = job.exchange->request;
  HttpResponse response;
  bool stopping = false;
  {
    MutexLock lock(m_mutex);
    stopping = m_stopping;
  }
  if (stopping) {
    response = error_response(503, "the server is stopping");
  } else {
    try {
      response = m_handler(request);
    } catch (const std::exception& error) {
      spdlog::error("http: {} {}: {}", request.method, request.path, error.what());
      response = error_response(500, "internal error");
    }
  }
  std::shared_ptr<BodyPipe> pipe;
  if (response.stream && !job.exchange->head) {
    MutexLock lock(m_mutex);
    if (m_streams < kMaxStreams && !m_stopping) {
      ++m_streams;
      pipe = std::make_shared<BodyPipe>(job.connection, m_wake);
      m_pipes.insert(pipe);
    } else {
      response = error_response(503, "too many responses are being streamed; try again");
      response.headers["Retry-After"] = "1";
    }
  }
  MHD_Response* prepared = nullptr;
  if (!response.stream) {
    prepared = buffered(response);
  } else if (pipe) {
    prepared = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, kStreamBlock, &read_pipe,
                                                 new std::shared_ptr<BodyPipe>(pipe), &free_pipe);
    add_headers(prepared, response);
  } else {
    // HEAD: the head of the streamed response, without its body. Not
    // chunked: libmicrohttpd 0.9.75 would send a last chunk after the head.
    prepared = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, kStreamBlock, &read_nothing,
                                                 nullptr, nullptr);
    MHD_set_response_options(prepared, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    add_headers(prepared, response);
  }
  {
    MutexLock lock(job.exchange->mutex);
    job.exchange->prepared = prepared;
    job.exchange->status = static_cast<unsigned>(response.status);
  }
  // From here on the exchange is the loop's again (and may be gone).
  resume(job.connection, m_wake);
  if (pipe) {
    produce(response, pipe);
  }
}

void HttpServer::Engine::produce(const HttpResponse& response,
                                 const std::shared_ptr<BodyPipe>& pipe) {
  Ending ending = Ending::complete;
  try {
    response.stream([&pipe](std::string_view piece) { return pipe->write(piece); });
  } catch (const std::exception& error) {
    // The status line is out: all that can be done is to end the body short
    // (no last chunk), which the client sees as a broken response.
    spdlog::error("http: the body could not be produced: {}", error.what());
    ending = Ending::broken;
  }
  pipe->finish(ending);
  MutexLock lock(m_mutex);
  --m_streams;
  m_pipes.erase(pipe);
}

std::string body_of(const HttpResponse& response) {
  if (!response.stream) {
    return response.body;
  }
  std::string body;
  response.stream([&body](std::string_view piece) {
    body += piece;
    return true;
  });
  return body;
}

Expected<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& listen,
                                                        Handler handler, Limits limits) {
  auto listener = open_listener(listen);
  if (!listener) {
    return std::unexpected(listener.error());
  }
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->m_port = bound_port(*listener);
  server->m_engine = std::make_unique<Engine>(std::move(handler), limits);
  if (auto started = server->m_engine->start(*listener); !started) {
    return std::unexpected(started.error());
  }
  return server;
}

HttpServer::~HttpServer() = default;

}  // namespace gapwatch
