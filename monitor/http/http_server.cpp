// HttpServer: civetweb underneath, requests turned into HttpRequest and
// HttpResponse (see http_server.h).
#include "monitor/http/http_server.h"

#include <civetweb.h>

#include <cstring>
#include <mutex>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gapwatch {

namespace {

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

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

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> values;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t equals = pair.find('=');
    values[url_decode(pair.substr(0, equals), UrlPart::query)] =
        equals == std::string_view::npos ? "" : url_decode(pair.substr(equals + 1), UrlPart::query);
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return values;
}

// How the body is framed: a length, chunks (HTTP/1.1), or the end of the
// connection (a streamed body to an HTTP/1.0 client).
enum class Framing { length, chunked, until_close };

// Whether the body follows the head: not in the answer to a HEAD request.
enum class Body { sent, omitted };

// The client's HTTP version: an HTTP/1.0 client cannot read chunks.
enum class HttpVersion { v1_0, v1_1 };

void send(mg_connection* connection, const HttpResponse& response, Body body = Body::sent,
          HttpVersion version = HttpVersion::v1_1) {
  const Framing framing = !response.stream               ? Framing::length
                          : version == HttpVersion::v1_0 ? Framing::until_close
                                                         : Framing::chunked;
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\n{}Connection: close\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
      response.status, reason(response.status), response.content_type,
      framing == Framing::length    ? fmt::format("Content-Length: {}\r\n", response.body.size())
      : framing == Framing::chunked ? std::string("Transfer-Encoding: chunked\r\n")
                                    : std::string());
  for (const auto& [name, value] : response.headers) {
    head += fmt::format("{}: {}\r\n", name, value);
  }
  head += "\r\n";
  mg_write(connection, head.data(), head.size());
  if (body == Body::omitted) {
    return;
  }
  if (!response.stream) {
    mg_write(connection, response.body.data(), response.body.size());
    return;
  }
  bool connected = true;
  try {
    response.stream([&](std::string_view piece) {
      if (connected && !piece.empty()) {
        const int sent =
            framing == Framing::chunked
                ? mg_send_chunk(connection, piece.data(), static_cast<unsigned int>(piece.size()))
                : mg_write(connection, piece.data(), piece.size());
        connected = sent > 0;
      }
      return connected;
    });
  } catch (const std::exception& error) {
    // The status line is out: all that can be done is to end the body short
    // (no last chunk), which the client sees as a broken response.
    spdlog::error("http: the body could not be produced: {}", error.what());
    return;
  }
  if (connected && framing == Framing::chunked) {
    mg_send_chunk(connection, "", 0);  // the last chunk
  }
}

}  // namespace

int HttpServer::handle(mg_connection* connection, void* self) {
  auto* server = static_cast<HttpServer*>(self);
  const mg_request_info* info = mg_get_request_info(connection);
  HttpRequest request;
  request.method = info->request_method != nullptr ? info->request_method : "";
  request.path =
      url_decode(info->local_uri_raw != nullptr ? info->local_uri_raw : "/", UrlPart::path);
  if (info->query_string != nullptr) {
    request.query = parse_query(info->query_string);
  }
  if (const char* authorization = mg_get_header(connection, "Authorization")) {
    request.authorization = authorization;
  }
  if (info->content_length > static_cast<long long>(kMaxBody)) {
    send(connection, HttpResponse{413, "application/json",
                                  R"({"error":"the request body is larger than 1 MiB"})", {}, {}});
    return 413;
  }
  char buffer[8192];
  while (request.body.size() <= kMaxBody) {
    const int got = mg_read(connection, buffer, sizeof buffer);
    if (got <= 0) {
      break;
    }
    request.body.append(buffer, static_cast<std::size_t>(got));
  }
  if (request.body.size() > kMaxBody) {
    send(connection, HttpResponse{413, "application/json",
                                  R"({"error":"the request body is larger than 1 MiB"})", {}, {}});
    return 413;
  }
  HttpResponse response;
  try {
    response = server->m_handler(request);
  } catch (const std::exception& error) {
    spdlog::error("http: {} {}: {}", request.method, request.path, error.what());
    response = HttpResponse{500, "application/json", R"({"error":"internal error"})", {}, {}};
  }
  const HttpVersion version =
      info->http_version != nullptr && std::string_view(info->http_version) == "1.0"
          ? HttpVersion::v1_0
          : HttpVersion::v1_1;
  send(connection, response, request.method == "HEAD" ? Body::omitted : Body::sent, version);
  return response.status;
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
                                                        Handler handler) {
  static std::once_flag initialised;
  std::call_once(initialised, [] { mg_init_library(0); });
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(handler)));
  const char* options[] = {"listening_ports", listen.c_str(),
                           "num_threads", "4",
                           "request_timeout_ms", "10000",
                           "enable_keep_alive", "no",
                           nullptr};
  mg_callbacks callbacks{};
  server->m_context = mg_start(&callbacks, nullptr, options);
  if (server->m_context == nullptr) {
    return fail(fmt::format("cannot listen on {} (in use, or not a host:port?)", listen));
  }
  mg_set_request_handler(server->m_context, "/", &HttpServer::handle, server.get());
  mg_server_port ports[4];
  std::memset(ports, 0, sizeof ports);
  const int count = mg_get_server_ports(server->m_context, 4, ports);
  if (count > 0) {
    server->m_port = ports[0].port;
  }
  return server;
}

HttpServer::~HttpServer() {
  if (m_context != nullptr) {
    mg_stop(m_context);
  }
}

}  // namespace gapwatch
