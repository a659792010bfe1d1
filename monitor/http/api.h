// Api: the HTTP endpoints, as a function from HttpRequest to HttpResponse (so
// they are tested without sockets). Reads: /metrics, /healthz, /readyz, the
// JSON API under /api/v1 and the status page at /. Writes (incident actions,
// manual backfills, reload) need `Authorization: Bearer <monitor.api_token>`,
// compared in constant time; with no token configured they answer 403.
// Malformed input gets 400, unknown ids 404, always with a JSON error body.
//
// Thread-safe: every dependency is, and the handler keeps no state.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/http/http_server.h"
#include "monitor/http/metrics.h"
#include "monitor/state/state_store.h"
#include "monitor/http/status_board.h"
#include "rules/clock.h"

namespace gapwatch {

struct ApiContext {
  std::function<std::shared_ptr<const Config>()> config;  // the running configuration
  StateStore* store = nullptr;
  Metrics* metrics = nullptr;
  StatusBoard* board = nullptr;
  const Clock* clock = nullptr;
  std::string config_path;
  std::function<void()> request_reload;
  // Called after a write to the state database (a manual request, an
  // incident action), so that the daemon reads its outbox now. May be empty.
  std::function<void()> state_changed;
  // Called when POST /-/reload is refused because the configuration is
  // invalid, so that it is logged and counted as a refused SIGHUP is. May be
  // empty.
  std::function<void(const std::vector<ConfigError>&)> reload_rejected;
};

class Api {
 public:
  explicit Api(ApiContext context) : m_context(std::move(context)) {}
  HttpResponse handle(const HttpRequest& request) const;

 private:
  HttpResponse readiness() const;
  HttpResponse rules() const;
  HttpResponse incidents(const HttpRequest& request) const;
  HttpResponse incident(std::int64_t id) const;
  HttpResponse incident_action(std::int64_t id, const std::string& action,
                               const HttpRequest& request) const;
  HttpResponse backfill(const HttpRequest& request) const;
  HttpResponse reload() const;
  HttpResponse status_page() const;
  void note_state_changed() const;
  // Empty when allowed, else the 401/403 to send.
  std::optional<HttpResponse> authorize(const HttpRequest& request) const;

  ApiContext m_context;
};

// `a == b` without an early exit that would reveal how much of a secret matched.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace gapwatch
