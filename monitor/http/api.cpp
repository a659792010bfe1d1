#include "monitor/http/api.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "monitor/state/incident_json.h"
#include "monitor/state/incident_manager.h"
#include "monitor/warehouse/rule_result.h"
#include "monitor/http/status_page.h"
#include "triggers/backfill_planner.h"

namespace gapwatch {

namespace {

HttpResponse json_response(int status, const nlohmann::json& body) {
  // Paths and driver messages need not be UTF-8; dump() would throw on them.
  return HttpResponse{status,
                      "application/json",
                      body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                      {},
                      {}};
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, {{"error", message}});
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (status != std::errc{} || end != text.data() + text.size() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash);
  }
  return parts;
}

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Comparing digests keeps the time independent of the lengths too.
  const auto left = sha256(a);
  const auto right = sha256(b);
  return CRYPTO_memcmp(left.data(), right.data(), left.size()) == 0;
}

std::optional<HttpResponse> Api::authorize(const HttpRequest& request) const {
  const std::string& token = m_context.config()->monitor.api_token;
  if (token.empty()) {
    return error_response(403, "writes are disabled: set monitor.api_token to enable them");
  }
  // The scheme name is case-insensitive (RFC 9110).
  const std::string_view header = request.authorization;
  const bool bearer = header.size() > 7 && (header[0] == 'B' || header[0] == 'b') &&
                      header.substr(1, 6) == "earer ";
  if (!bearer || !constant_time_equal(header.substr(7), token)) {
    HttpResponse response = error_response(401, "missing or wrong bearer token");
    response.headers["WWW-Authenticate"] = "Bearer";
    return response;
  }
  return std::nullopt;
}

HttpResponse Api::handle(const HttpRequest& request) const {
  const std::vector<std::string_view> parts = segments(request.path);
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  const auto only = [&](std::string_view allowed) {
    HttpResponse response =
        error_response(405, fmt::format("{} is not allowed here; use {}", request.method, allowed));
    response.headers["Allow"] = std::string(allowed);
    return response;
  };

  if (parts.empty()) {
    return get ? status_page() : only("GET");
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (!get) {
      return only("GET");
    }
    HttpResponse response{200, "text/plain; version=0.0.4; charset=utf-8", {}, {}, {}};
    response.stream = [metrics = m_context.metrics](const HttpResponse::Writer& write) {
      metrics->render(write);
    };
    return response;
  }
  if (parts.size() == 1 && parts[0] == "healthz") {
    return get ? json_response(200, {{"status", "alive"}}) : only("GET");
  }
  if (parts.size() == 1 && parts[0] == "readyz") {
    return get ? readiness() : only("GET");
  }
  if (parts.size() == 2 && parts[0] == "-" && parts[1] == "reload") {
    if (!post) {
      return only("POST");
    }
    if (auto denied = authorize(request)) {
      return *denied;
    }
    return reload();
  }
  if (parts.size() >= 3 && parts[0] == "api" && parts[1] == "v1") {
    if (parts[2] == "rules" && parts.size() == 3) {
      return get ? rules() : only("GET");
    }
    if (parts[2] == "backfills" && parts.size() == 3) {
      if (!post) {
        return only("POST");
      }
      if (auto denied = authorize(request)) {
        return *denied;
      }
      return backfill(request);
    }
    if (parts[2] == "incidents") {
      if (parts.size() == 3) {
        return get ? incidents(request) : only("GET");
      }
      const auto id = parse_id(parts[3]);
      if (!id) {
        return error_response(400, fmt::format("'{}' is not an incident id", parts[3]));
      }
      if (parts.size() == 4) {
        return get ? incident(*id) : only("GET");
      }
      if (parts.size() == 5 && (parts[4] == "ack" || parts[4] == "resolve" || parts[4] == "retry")) {
        if (!post) {
          return only("POST");
        }
        if (auto denied = authorize(request)) {
          return *denied;
        }
        return incident_action(*id, std::string(parts[4]), request);
      }
    }
  }
  return error_response(404, fmt::format("no such endpoint: {}", request.path));
}

HttpResponse Api::readiness() const {
  std::vector<std::string> reasons;
  const auto config = m_context.config();
  if (auto writable = m_context.store->check_writable(); !writable) {
    reasons.push_back(writable.error().message);
  }
  const auto up = m_context.metrics->warehouses_up();
  std::set<std::string> used;
  for (const RuleConfig& rule : config->rules) {
    used.insert(rule.spec.warehouse);
  }
  for (const WarehouseConfig& warehouse : config->warehouses) {
    if (!used.contains(warehouse.name)) {
      continue;  // no rule uses it, so nothing ever connects to it
    }
    const auto found = up.find(warehouse.name);
    if (found == up.end()) {
      reasons.push_back(fmt::format("warehouse {} has not been reached yet", warehouse.name));
    } else if (!found->second) {
      reasons.push_back(fmt::format("warehouse {} is unreachable", warehouse.name));
    }
  }
  if (reasons.empty()) {
    return json_response(200, {{"ready", true}});
  }
  return json_response(503, {{"ready", false}, {"reasons", reasons}});
}

HttpResponse Api::rules() const {
  nlohmann::json list = nlohmann::json::array();
  for (const RuleStatus& status : m_context.board->snapshot()) {
    list.push_back({{"rule", status.rule},
                    {"check", to_string(status.check)},
                    {"warehouse", status.warehouse},
                    {"table", status.table},
                    {"severity", to_string(status.severity)},
                    {"schedule", status.schedule},
                    {"next_evaluation", status.next_due ? nlohmann::json(format_rfc3339(*status.next_due))
                                                        : nlohmann::json(nullptr)},
                    {"skipped_evaluations", status.skipped},
                    {"running_since", status.running_since
                                          ? nlohmann::json(format_rfc3339(*status.running_since))
                                          : nlohmann::json(nullptr)},
                    {"last_result", status.last ? result_to_json(*status.last, BucketList::of_failing_segments)
                                                : nlohmann::json(nullptr)}});
  }
  return json_response(200, {{"rules", list}});
}

HttpResponse Api::incidents(const HttpRequest& request) const {
  const auto filter = request.query.find("state");
  const std::string state = filter == request.query.end() ? "open" : filter->second;
  if (state != "open" && state != "all") {
    return error_response(400, "state must be open or all");
  }
  auto found =
      m_context.store->incidents(state == "open" ? IncidentFilter::active : IncidentFilter::all);
  if (!found) {
    return error_response(500, found.error().message);
  }
  nlohmann::json list = nlohmann::json::array();
  for (const Incident& item : *found) {
    list.push_back(incident_json(item));
  }
  return json_response(200, {{"incidents", list}});
}

HttpResponse Api::incident(std::int64_t id) const {
  auto found = m_context.store->incident(id);
  if (!found) {
    return error_response(500, found.error().message);
  }
  if (!*found) {
    return error_response(404, fmt::format("no incident {}", id));
  }
  auto requests = m_context.store->requests_for_incident(id);
  auto events = m_context.store->events_for_incident(id);
  if (!requests || !events) {
    return error_response(500, "cannot read the incident's history");
  }
  return json_response(200, incident_detail_json(**found, *requests, *events));
}

HttpResponse Api::incident_action(std::int64_t id, const std::string& action,
                                  const HttpRequest& request) const {
  std::string who = "api";
  if (!request.body.empty()) {
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error_response(400, "the body must be a JSON object, e.g. {\"by\": \"alice\"}");
    }
    if (body.contains("by")) {
      if (!body["by"].is_string() || body["by"].get<std::string>().size() > 200) {
        return error_response(400, "by must be a short string");
      }
      who = "api: " + body["by"].get<std::string>();
    }
  }
  auto found = m_context.store->incident(id);
  if (!found) {
    return error_response(500, found.error().message);
  }
  if (!*found) {
    return error_response(404, fmt::format("no incident {}", id));
  }
  const auto config = m_context.config();
  IncidentManager manager(*m_context.store, *m_context.clock, delivery_of(config->monitor));
  const Expected<void> done = action == "ack"       ? manager.acknowledge(id, who)
                              : action == "resolve" ? manager.resolve(id, who)
                                                    : manager.retry(id, who);
  if (!done) {
    return error_response(409, done.error().message);
  }
  note_state_changed();
  return incident(id);
}

HttpResponse Api::backfill(const HttpRequest& request) const {
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return error_response(400, "the body must be a JSON object {\"rule\": …, \"from\": …, \"to\": …}");
  }
  for (const char* key : {"rule", "from", "to"}) {
    if (!body.contains(key) || !body[key].is_string()) {
      return error_response(400, fmt::format("missing string field '{}'", key));
    }
  }
  const auto config = m_context.config();
  const RuleConfig* rule = config->find_rule(body["rule"].get<std::string>());
  if (rule == nullptr) {
    return error_response(404, fmt::format("no rule named '{}'", body["rule"].get<std::string>()));
  }
  if (!rule->backfill) {
    return error_response(400, fmt::format("rule '{}' has no backfill executor", rule->spec.name));
  }
  const auto from = parse_rfc3339(body["from"].get<std::string>());
  const auto to = parse_rfc3339(body["to"].get<std::string>());
  if (!from || !to) {
    return error_response(400, !from ? from.error().message : to.error().message);
  }
  if (*to <= *from) {
    return error_response(400, "to must be after from");
  }
  // Cut at max_window and clipped at not_before as automatic requests are,
  // and refused beyond kMaxManualWindows.
  const auto windows = plan_manual_backfill(Window{*from, *to, Status::fail}, *rule->backfill);
  if (!windows) {
    return error_response(400, windows.error().message);
  }
  IncidentManager manager(*m_context.store, *m_context.clock, delivery_of(config->monitor));
  auto made = manager.manual_requests(*rule, rule->backfill->executor, *windows);
  if (!made) {
    return error_response(500, made.error().message);
  }
  note_state_changed();
  // The first request, as when there was always one, and every request made.
  nlohmann::json answer = request_json(made->front());
  answer["requests"] = nlohmann::json::array();
  for (const RequestRecord& record : *made) {
    answer["requests"].push_back(request_json(record));
  }
  return json_response(201, answer);
}

void Api::note_state_changed() const {
  if (m_context.state_changed) {
    m_context.state_changed();
  }
}

HttpResponse Api::reload() const {
  spdlog::info("POST /-/reload: reloading the configuration");  // as SIGHUP's
  auto loaded = load_config_file(m_context.config_path, process_environment());
  if (!loaded) {
    if (m_context.reload_rejected) {
      m_context.reload_rejected(loaded.error());
    }
    nlohmann::json errors = nlohmann::json::array();
    for (const ConfigError& error : loaded.error()) {
      errors.push_back(error.format());
    }
    return json_response(400, {{"error", "the configuration is invalid; the running one is kept"},
                               {"problems", errors}});
  }
  m_context.request_reload();
  return json_response(202, {{"status", "reload requested"}});
}

HttpResponse Api::status_page() const {
  auto active = m_context.store->incidents(IncidentFilter::active);
  std::vector<Incident> incidents = active ? *active : std::vector<Incident>{};
  std::map<std::int64_t, std::vector<RequestRecord>> requests;
  for (const Incident& item : incidents) {
    if (auto found = m_context.store->requests_for_incident(item.id)) {
      requests[item.id] = std::move(*found);
    }
  }
  return HttpResponse{200, "text/html; charset=utf-8",
                      render_status_page(m_context.board->snapshot(), incidents, requests,
                                         m_context.clock->now()),
                      {},
                      {}};
}

}  // namespace gapwatch
