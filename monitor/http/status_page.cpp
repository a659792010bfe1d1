#include "monitor/http/status_page.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "rules/counts.h"
#include "rules/duration.h"
#include "rules/segment.h"

namespace gapwatch {

namespace {

constexpr const char* kStyle = R"css(
body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em}
.summary{font-size:1.1em;margin:.3em 0 1em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f0f0f0;font-weight:600}
.badge{display:inline-block;min-width:3.6em;text-align:center;padding:.1em .4em;border-radius:.3em;font-weight:700;color:#fff}
.fail{background:#c62828}.error{background:#6a1b9a}.warn{background:#ef6c00}.pass{background:#2e7d32}.none{background:#757575}
.escalated{background:#c62828}.backfilling,.verifying{background:#1565c0}.open{background:#ef6c00}
code{font-size:.92em}.muted{color:#666}a{color:#0d47a1}
)css";

std::string badge(std::string_view kind, std::string_view text) {
  return fmt::format("<span class=\"badge {}\">{}</span>", kind, html_escape(text));
}

std::string ago(Instant then, Instant now) {
  const auto seconds = now - then;
  if (seconds.count() < 0) {
    return "in " + format_duration(-seconds);
  }
  return format_duration(seconds) + " ago";
}

// The Next column: an evaluation in flight (a hung warehouse shows here
// until the evaluation is abandoned), else when the next one is due.
std::string next_text(const RuleStatus& rule, Instant now) {
  if (rule.running_since) {
    return fmt::format("evaluating for {} (since {})",
                       format_duration(std::max(now - *rule.running_since, std::chrono::seconds{0})),
                       format_rfc3339(*rule.running_since));
  }
  return rule.next_due ? ago(*rule.next_due, now) : "—";
}

std::string observed_text(const RuleStatus& rule) {
  if (!rule.last || !rule.last->verdict.observed) {
    return "—";
  }
  const double value = *rule.last->verdict.observed;
  switch (rule.check) {
    case CheckKind::freshness:
      return format_duration(std::chrono::seconds{static_cast<std::int64_t>(value)}) + " old";
    case CheckKind::row_count:
      return format_number(value) + " rows";
    case CheckKind::null_rate:
      return format_percent(value) + " NULL";
  }
  return format_number(value);
}

// How many segments of one status the Observed column names before it
// just counts the rest.
constexpr std::size_t kSegmentsNamed = 5;

// The names of a verdict's segments of `status`: "FR, null and 3 more".
std::string segment_names(const Verdict& verdict, Status status) {
  std::string names;
  std::size_t count = 0;
  for (const SegmentVerdict& segment : verdict.segments) {
    if (segment.status != status || ++count > kSegmentsNamed) {
      continue;
    }
    names += names.empty() ? "" : ", ";
    names += segment_name(segment.key);
  }
  if (count > kSegmentsNamed) {
    names += fmt::format(" and {} more", count - kSegmentsNamed);
  }
  return names;
}

// A segmented rule's failing and warning segments, for under its observed
// value: "failing: FR, null · warn: IT". Empty when none is.
std::string segments_text(const RuleStatus& rule) {
  if (!rule.last) {
    return {};
  }
  std::string text;
  for (const auto& [status, label] : {std::pair{Status::fail, "failing"},
                                      std::pair{Status::warn, "warn"}}) {
    const std::string names = segment_names(rule.last->verdict, status);
    if (!names.empty()) {
      text += text.empty() ? "" : " · ";
      text += fmt::format("{}: {}", label, names);
    }
  }
  return text;
}

std::string observed_cell(const RuleStatus& rule) {
  std::string cell = html_escape(observed_text(rule));
  if (const std::string segments = segments_text(rule); !segments.empty()) {
    cell += "<br><span class=\"muted\">" + html_escape(segments) + "</span>";
  }
  return cell;
}

// A window as the incidents table shows it, its segment first if it has one.
std::string window_text(const Window& window) {
  return fmt::format("<code>{}{} → {}</code>",
                     window.segment.empty() ? "" : html_escape(segment_name(window.segment)) + ": ",
                     format_rfc3339(window.start), format_rfc3339(window.end));
}

int order(const RuleStatus& rule) {
  if (!rule.last) {
    return 4;
  }
  switch (rule.last->verdict.status) {
    case Status::fail:
      return 0;
    case Status::error:
      return 1;
    case Status::warn:
      return 2;
    case Status::pass:
      return 3;
  }
  return 4;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_status_page(const std::vector<RuleStatus>& rules,
                               const std::vector<Incident>& incidents,
                               const std::map<std::int64_t, std::vector<RequestRecord>>& requests,
                               Instant now) {
  std::vector<RuleStatus> sorted = rules;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const RuleStatus& a, const RuleStatus& b) { return order(a) < order(b); });
  std::array<int, 5> counts{};
  for (const RuleStatus& rule : sorted) {
    ++counts[static_cast<std::size_t>(order(rule))];
  }
  std::string html = fmt::format(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"30\"><title>gapwatch: {} failing, {} error</title>"
      "<style>{}</style></head><body><h1>gapwatch</h1>"
      "<div class=\"summary\">{} failing · {} error · {} warn · {} pass · {} not yet evaluated — "
      "<span class=\"muted\">{} UTC, refreshes every 30 s</span></div>",
      counts[0], counts[1], kStyle, counts[0], counts[1], counts[2], counts[3], counts[4],
      format_rfc3339(now));

  html += fmt::format("<h2>Open incidents ({})</h2>", incidents.size());
  if (incidents.empty()) {
    html += "<p class=\"muted\">None.</p>";
  } else {
    html += "<table><tr><th>#</th><th>State</th><th>Rule</th><th>Opened</th><th>Failing windows"
            "</th><th>Backfill requests</th></tr>";
    for (const Incident& incident : incidents) {
      std::string windows;
      for (const Window& window : incident.windows) {
        windows += window_text(window) + "<br>";
      }
      std::string attempts;
      if (const auto found = requests.find(incident.id); found != requests.end()) {
        for (const RequestRecord& request : found->second) {
          // A request waiting out attempt_backoff says when it goes.
          const bool waiting =
              request.state == RequestState::pending && request.next_attempt_at > now;
          attempts += fmt::format(
              "{} attempt {} via {}: <b>{}</b>{}{}<br>", window_text(request.window),
              request.attempt, html_escape(request.executor), to_string(request.state),
              waiting ? ", due " + ago(request.next_attempt_at, now) : "",
              request.last_error.empty() ? "" : " — " + html_escape(request.last_error));
          if (const auto& run = request.run) {
            // The run's link is the orchestrator's page: only http(s).
            const bool linkable = run->ref.link.starts_with("https://") ||
                                  run->ref.link.starts_with("http://");
            attempts += fmt::format(
                "&nbsp;&nbsp;run {}{}{}: {}<br>",
                linkable ? "<a href=\"" + html_escape(run->ref.link) + "\">" : "",
                html_escape(run->ref.id), linkable ? "</a>" : "",
                html_escape(std::string(run_state_name(*run))));
          }
        }
      }
      html += fmt::format(
          "<tr><td><a href=\"/api/v1/incidents/{0}\">{0}</a></td><td>{1}{2}</td><td>{3}<br>"
          "<span class=\"muted\">{4}</span></td><td>{5}</td><td>{6}</td><td>{7}</td></tr>",
          incident.id, badge(to_string(incident.state), to_string(incident.state)),
          incident.acknowledged_at ? " <span class=\"muted\">acknowledged</span>" : "",
          html_escape(incident.rule), html_escape(incident.message),
          ago(incident.opened_at, now), windows.empty() ? "—" : windows,
          attempts.empty() ? "<span class=\"muted\">none</span>" : attempts);
    }
    html += "</table>";
  }

  html += fmt::format("<h2>Rules ({})</h2>", sorted.size());
  html += "<table><tr><th>Status</th><th>Rule</th><th>Table</th><th>Observed</th><th>Message"
          "</th><th>Last evaluation</th><th>Next</th></tr>";
  for (const RuleStatus& rule : sorted) {
    const std::string status = rule.last ? std::string(to_string(rule.last->verdict.status)) : "none";
    html += fmt::format(
        "<tr><td>{}</td><td><b>{}</b><br><span class=\"muted\">{} · {} · every {}</span></td>"
        "<td><code>{}.{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        badge(status, rule.last ? status : "pending"), html_escape(rule.rule),
        to_string(rule.check), to_string(rule.severity), html_escape(rule.schedule),
        html_escape(rule.warehouse), html_escape(rule.table), observed_cell(rule),
        rule.last ? html_escape(rule.last->verdict.message) : "",
        rule.last ? ago(rule.last->evaluated_at, now) : "—", html_escape(next_text(rule, now)));
  }
  html += "</table><p class=\"muted\">JSON: <a href=\"/api/v1/rules\">rules</a> · "
          "<a href=\"/api/v1/incidents?state=all\">incidents</a> · <a href=\"/metrics\">metrics</a>"
          " · <a href=\"/readyz\">readiness</a></p></body></html>\n";
  return html;
}

}  // namespace gapwatch
