// The commands that work on the state database: run (the daemon), incidents
// (list, show, ack, resolve, retry) and backfill (a manual request).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "monitor/cli/commands.h"
#include "monitor/cli/load_config.h"
#include "monitor/config/config.h"
#include "monitor/daemon/daemon.h"
#include "monitor/daemon/dispatcher.h"
#include "monitor/state/incident_json.h"
#include "monitor/state/incident_manager.h"
#include "monitor/daemon/logging.h"
#include "monitor/state/state_store.h"
#include "monitor/daemon/system_clock.h"
#include "triggers/backfill_planner.h"

namespace gapwatch {

namespace {

std::string current_user() {
  if (const char* user = std::getenv("USER")) {
    return user;
  }
  return fmt::format("uid {}", getuid());
}

std::string optional_time(const std::optional<Instant>& instant) {
  return instant ? format_rfc3339(*instant) : "-";
}

// "  segment FR, null" after a segment's window; nothing for the whole table.
std::string segment_suffix(const Window& window) {
  return window.segment.empty() ? std::string()
                                : fmt::format("  segment {}", segment_name(window.segment));
}

// SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken by one
// thread with sigwaitinfo, which turns them into daemon requests. The thread
// sleeps until a signal comes (no polling tick: an idle daemon stays asleep);
// to end it, the destructor requests a stop and sends this thread a SIGHUP of
// its own, which the thread sees after the stop request and does not act on.
class SignalThread {
 public:
  explicit SignalThread(Daemon& daemon)
      : m_thread([&daemon](std::stop_token stop) {
          const sigset_t signals = handled();
          while (true) {
            const int signal = sigwaitinfo(&signals, nullptr);
            if (stop.stop_requested()) {
              return;
            }
            if (signal == SIGHUP) {
              spdlog::info("SIGHUP: reloading the configuration");
              daemon.request_reload();
            } else if (signal == SIGTERM || signal == SIGINT) {
              spdlog::info("{}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
              daemon.request_stop();
            }
          }
        }) {}

  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

  ~SignalThread() {
    m_thread.request_stop();
    // The thread has not been joined yet, so its handle is valid even if it
    // has already returned; a signal left pending on it is discarded.
    pthread_kill(m_thread.native_handle(), SIGHUP);
  }

  static sigset_t handled() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    return signals;
  }

 private:
  std::jthread m_thread;
};

}  // namespace

int run_command(const RunOptions& options) {
  // Block before any thread starts, so every thread inherits the mask.
  const sigset_t signals = SignalThread::handled();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto config = load_config_or_report(options.config_path);
  if (!config) {
    return kExitInvalid;
  }
  configure_logging(config->monitor.log_format,
                    options.verbose ? "debug" : config->monitor.log_level);
  set_log_redactor(config_redactor(*config));
  SystemClock clock;
  DaemonOptions daemon_options;
  daemon_options.config_path = options.config_path;
  daemon_options.dry_run = options.dry_run;
  daemon_options.until_healthy = options.until_healthy;
  daemon_options.max_runtime = std::chrono::seconds{options.max_runtime_seconds};
  auto daemon = Daemon::start(daemon_options, std::move(*config), clock);
  if (!daemon) {
    spdlog::error("{}", daemon.error().message);
    return 1;
  }
  SignalThread signal_thread(**daemon);
  return (*daemon)->run();
}

int incidents_command(const IncidentsOptions& options) {
  std::string state_path;
  if (options.state_path) {
    state_path = *options.state_path;
  } else {
    auto config = load_config_or_report(options.config_path);
    if (!config) {
      return kExitInvalid;
    }
    state_path = config->monitor.state_path;
  }
  auto store = StateStore::open(state_path);
  if (!store) {
    fmt::print(stderr, "error: {}\n", store.error().message);
    return 1;
  }
  SystemClock clock;
  IncidentManager manager(**store, clock, Delivery::send);
  const bool json = options.output == "json";

  if (options.action == "list") {
    auto incidents = (*store)->incidents(options.state_filter == "all" ? IncidentFilter::all
                                                                       : IncidentFilter::active);
    if (!incidents) {
      fmt::print(stderr, "error: {}\n", incidents.error().message);
      return 1;
    }
    if (json) {
      nlohmann::json list = nlohmann::json::array();
      for (const Incident& incident : *incidents) {
        list.push_back(incident_json(incident));
      }
      fmt::print("{}\n", list.dump(2));
      return 0;
    }
    if (incidents->empty()) {
      fmt::print("no {}incidents\n", options.state_filter == "all" ? "" : "open ");
      return 0;
    }
    fmt::print("{:>5}  {:<11}  {:<8}  {:<20}  {:<20}  {}\n", "ID", "STATE", "SEVERITY", "OPENED",
               "RULE", "MESSAGE");
    for (const Incident& incident : *incidents) {
      fmt::print("{:>5}  {:<11}  {:<8}  {:<20}  {:<20}  {}{}\n", incident.id,
                 to_string(incident.state), to_string(incident.severity),
                 format_rfc3339(incident.opened_at), incident.rule, incident.message,
                 incident.acknowledged_at ? " (acknowledged)" : "");
    }
    return 0;
  }

  if (!options.id) {
    fmt::print(stderr, "error: incidents {} needs an incident ID\n", options.action);
    return kExitInvalid;
  }
  const std::int64_t id = *options.id;
  if (options.action == "show") {
    auto incident = (*store)->incident(id);
    auto requests = (*store)->requests_for_incident(id);
    auto events = (*store)->events_for_incident(id);
    if (!incident || !requests || !events) {
      fmt::print(stderr, "error: cannot read incident #{}\n", id);
      return 1;
    }
    if (!*incident) {
      fmt::print(stderr, "error: no incident #{}\n", id);
      return 1;
    }
    if (json) {
      fmt::print("{}\n", incident_detail_json(**incident, *requests, *events).dump(2));
      return 0;
    }
    const Incident& shown = **incident;
    fmt::print("incident #{}  {}  rule {}  severity {}\n", shown.id, to_string(shown.state),
               shown.rule, to_string(shown.severity));
    fmt::print("opened {}  updated {}  resolved {}  acknowledged {}\n",
               format_rfc3339(shown.opened_at), format_rfc3339(shown.updated_at),
               optional_time(shown.resolved_at), optional_time(shown.acknowledged_at));
    fmt::print("last verdict: {}\n", shown.message);
    if (const std::optional<Instant> next = next_attempt_at(*requests)) {
      fmt::print("next attempt due {}\n", format_rfc3339(*next));
    }
    for (const Window& window : shown.windows) {
      fmt::print("failing window {} .. {}{}\n", format_rfc3339(window.start),
                 format_rfc3339(window.end), segment_suffix(window));
    }
    fmt::print("\nrequests:\n");
    for (const RequestRecord& request : *requests) {
      fmt::print("  {}  {} .. {}{}  attempt {}  {:<9}  deliveries {}  via {}{}{}\n", request.id,
                 format_rfc3339(request.window.start), format_rfc3339(request.window.end),
                 segment_suffix(request.window), request.attempt, to_string(request.state),
                 request.deliveries, request.executor,
                 request.state == RequestState::pending
                     ? "  due " + format_rfc3339(request.next_attempt_at)
                     : "",
                 request.last_error.empty() ? "" : "  (" + request.last_error + ")");
      if (const auto& run = request.run) {
        fmt::print("      run {}  {}{}{}\n", run->ref.id, run_state_name(*run),
                   run->detail.empty() ? "" : "  (" + run->detail + ")",
                   run->ref.link.empty() ? "" : "  " + run->ref.link);
      }
    }
    fmt::print("\nhistory:\n");
    for (const EventRecord& event : *events) {
      fmt::print("  {}  {:<18}  {}{}\n", format_rfc3339(event.at), event.kind, event.detail,
                 event.request_id ? "  [" + *event.request_id + "]" : "");
    }
    return 0;
  }

  const std::string who = options.who.empty() ? current_user() : options.who;
  Expected<void> done;
  if (options.action == "ack") {
    done = manager.acknowledge(id, who);
  } else if (options.action == "resolve") {
    done = manager.resolve(id, who);
  } else if (options.action == "retry") {
    done = manager.retry(id, who);
  } else {
    fmt::print(stderr, "error: unknown action '{}'\n", options.action);
    return kExitInvalid;
  }
  if (!done) {
    fmt::print(stderr, "error: {}\n", done.error().message);
    return 1;
  }
  fmt::print("incident #{}: {} done\n", id, options.action);
  return 0;
}

int backfill_command(const BackfillOptions& options) {
  auto config = load_config_or_report(options.config_path);
  if (!config) {
    return kExitInvalid;
  }
  const RuleConfig* rule = config->find_rule(options.rule);
  if (rule == nullptr) {
    fmt::print(stderr, "error: no rule named '{}'\n", options.rule);
    return kExitInvalid;
  }
  if (!rule->backfill) {
    fmt::print(stderr, "error: rule '{}' has no backfill executor configured\n", options.rule);
    return kExitInvalid;
  }
  const auto from = parse_rfc3339(options.from);
  const auto to = parse_rfc3339(options.to);
  if (!from || !to) {
    fmt::print(stderr, "error: {}\n", !from ? from.error().message : to.error().message);
    return kExitInvalid;
  }
  if (*to <= *from) {
    fmt::print(stderr, "error: --to must be after --from\n");
    return kExitInvalid;
  }
  // Cut at max_window and clipped at not_before as automatic requests are,
  // and refused beyond kMaxManualWindows.
  const auto windows = plan_manual_backfill(Window{*from, *to, Status::fail}, *rule->backfill);
  if (!windows) {
    fmt::print(stderr, "error: {}\n", windows.error().message);
    return kExitInvalid;
  }
  auto store = StateStore::open(config->monitor.state_path);
  if (!store) {
    fmt::print(stderr, "error: {}\n", store.error().message);
    return 1;
  }
  // What this command logs, stores and prints is masked as the daemon's is.
  const std::shared_ptr<const Redactor> redactor = config_redactor(*config);
  set_log_redactor(redactor);
  (*store)->set_redactor(redactor);
  SystemClock clock;
  IncidentManager manager(**store, clock, delivery_of(config->monitor));
  auto requests = manager.manual_requests(*rule, rule->backfill->executor, *windows);
  if (!requests) {
    fmt::print(stderr, "error: {}\n", requests.error().message);
    return 1;
  }
  for (const RequestRecord& request : *requests) {
    fmt::print("request {} queued: {} {} .. {} via {}\n", request.id, rule->spec.name,
               format_rfc3339(request.window.start), format_rfc3339(request.window.end),
               request.executor);
  }
  if (options.enqueue_only || config->monitor.dry_run) {
    return 0;
  }
  // Send them now, one after another, through the same outbox path the
  // daemon uses. If a daemon is running it may claim one first; then this
  // command leaves that one to the daemon.
  std::optional<DispatchReport> report;
  Dispatcher dispatcher(*config, **store, manager, clock, make_executors(*config, clock),
                        [&](const DispatchReport& done) { report = done; });
  int exit_code = 0;
  for (const RequestRecord& request : *requests) {
    report.reset();
    auto started = dispatcher.dispatch_due(request.id);
    if (!started) {
      fmt::print(stderr, "error: {}\n", started.error().message);
      return 1;
    }
    dispatcher.shutdown(std::chrono::hours{24});
    if (!report) {
      fmt::print("request {}: the running daemon took it; see gapwatch incidents\n", request.id);
      continue;
    }
    fmt::print("request {}: {} ({})\n", report->request.id, to_string(report->request.state),
               redactor->redact(report->outcome.detail));
    if (report->request.state == RequestState::failed) {
      exit_code = 1;
    }
  }
  return exit_code;
}

}  // namespace gapwatch
