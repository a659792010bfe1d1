#include "monitor/http/status_page.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "tests/monitor/state/state_support.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const Instant kNow = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + hours{12};

// A rule that has not been evaluated yet.
RuleStatus rule_named(std::string name, CheckKind check = CheckKind::row_count) {
  RuleStatus status;
  status.rule = std::move(name);
  status.check = check;
  status.warehouse = "shop";
  status.table = "analytics.events";
  status.severity = Severity::critical;
  status.schedule = "5m";
  return status;
}

// A rule whose last evaluation, 90 s ago, ended in `status`.
RuleStatus evaluated(std::string name, Status status, CheckKind check = CheckKind::row_count) {
  RuleStatus rule = rule_named(std::move(name), check);
  RuleResult result;
  result.rule = rule.rule;
  result.check = check;
  result.warehouse = rule.warehouse;
  result.table = rule.table;
  result.evaluated_at = kNow - seconds{90};
  result.verdict.status = status;
  result.verdict.message = "message of " + rule.rule;
  rule.last = result;
  return rule;
}

std::string page(const std::vector<RuleStatus>& rules, const std::vector<Incident>& incidents = {},
                 const std::map<std::int64_t, std::vector<RequestRecord>>& requests = {}) {
  return render_status_page(rules, incidents, requests, kNow);
}

// Where `needle` first appears in `html`; fails the test if it does not.
std::size_t position(const std::string& html, std::string_view needle) {
  const std::size_t at = html.find(needle);
  REQUIRE_MESSAGE(at != std::string::npos, needle);
  return at;
}

Incident incident_for(std::string rule) {
  Incident incident;
  incident.id = 7;
  incident.rule = std::move(rule);
  incident.state = IncidentState::backfilling;
  incident.severity = Severity::critical;
  incident.opened_at = kNow - hours{2};
  incident.updated_at = kNow - minutes{5};
  incident.message = "2 bucket(s) below 10 rows";
  incident.windows = {Window{kNow - hours{6}, kNow - hours{4}, Status::fail},
                      Window{kNow - hours{3}, kNow - hours{2}, Status::fail}};
  return incident;
}

RequestRecord request_for(const Incident& incident, int attempt, RequestState state,
                          std::string error = "") {
  RequestRecord request;
  request.id = "0123456789abcdef0123456789abcdef";
  request.incident_id = incident.id;
  request.rule = incident.rule;
  request.executor = "reload";
  request.window = incident.windows.front();
  request.attempt = attempt;
  request.state = state;
  request.last_error = std::move(error);
  return request;
}

// ---------------------------------------------------------------------------
// html_escape

TEST_CASE("status page: html_escape escapes the five HTML special characters") {
  CHECK(html_escape("<a href=\"x\">Tom & Jerry's</a>") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  CHECK(html_escape("&lt;") == "&amp;lt;");
  CHECK(html_escape("plain text, ünïcödé") == "plain text, ünïcödé");
  CHECK(html_escape("").empty());
}

// ---------------------------------------------------------------------------
// Rules

TEST_CASE("status page: rules are ordered fail, error, warn, pass, then not yet evaluated") {
  const std::string html = page(
      {rule_named("r_none"), evaluated("r_pass", Status::pass), evaluated("r_warn", Status::warn),
       evaluated("r_error", Status::error), evaluated("r_fail", Status::fail)});
  const std::size_t fail = position(html, "<b>r_fail</b>");
  const std::size_t error = position(html, "<b>r_error</b>");
  const std::size_t warn = position(html, "<b>r_warn</b>");
  const std::size_t pass = position(html, "<b>r_pass</b>");
  const std::size_t none = position(html, "<b>r_none</b>");
  CHECK(fail < error);
  CHECK(error < warn);
  CHECK(warn < pass);
  CHECK(pass < none);
}

TEST_CASE("status page: rules of the same status keep their config order") {
  const std::string html = page({evaluated("zeta", Status::fail), evaluated("alpha", Status::pass),
                                 evaluated("beta", Status::fail)});
  CHECK(position(html, "<b>zeta</b>") < position(html, "<b>beta</b>"));
  CHECK(position(html, "<b>beta</b>") < position(html, "<b>alpha</b>"));
}

TEST_CASE("status page: the title and summary count rules by status") {
  const std::string html = page({evaluated("f1", Status::fail), evaluated("f2", Status::fail),
                                 evaluated("e1", Status::error), evaluated("w1", Status::warn),
                                 evaluated("p1", Status::pass), evaluated("p2", Status::pass),
                                 evaluated("p3", Status::pass), rule_named("n1")});
  CHECK(html.find("<title>gapwatch: 2 failing, 1 error</title>") != std::string::npos);
  CHECK(html.find("2 failing · 1 error · 1 warn · 3 pass · 1 not yet evaluated") !=
        std::string::npos);
  CHECK(html.find("<h2>Rules (8)</h2>") != std::string::npos);
}

TEST_CASE("status page: with no rules and no incidents the page still renders") {
  const std::string html = page({});
  CHECK(html.starts_with("<!doctype html>"));
  CHECK(html.find("0 failing · 0 error · 0 warn · 0 pass · 0 not yet evaluated") !=
        std::string::npos);
  CHECK(html.find("<h2>Open incidents (0)</h2><p class=\"muted\">None.</p>") != std::string::npos);
  CHECK(html.find("2026-03-02T12:00:00Z UTC") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
}

TEST_CASE("status page: a rule row shows its status, observation, message and times") {
  RuleStatus rule = evaluated("orders_fresh", Status::fail, CheckKind::freshness);
  rule.last->verdict.observed = 5400;
  rule.next_due = kNow + minutes{4};
  const std::string html = page({rule});
  CHECK(html.find("<span class=\"badge fail\">fail</span>") != std::string::npos);
  CHECK(html.find("freshness · critical · every 5m") != std::string::npos);
  CHECK(html.find("<code>shop.analytics.events</code>") != std::string::npos);
  CHECK(html.find("<td>1h30m old</td>") != std::string::npos);
  CHECK(html.find("<td>message of orders_fresh</td>") != std::string::npos);
  CHECK(html.find("<td>1m30s ago</td>") != std::string::npos);
  CHECK(html.find("<td>in 4m</td>") != std::string::npos);
}

TEST_CASE("status page: observed values read in the check's unit") {
  RuleStatus rows = evaluated("rows", Status::fail, CheckKind::row_count);
  rows.last->verdict.observed = 3;
  RuleStatus nulls = evaluated("nulls", Status::warn, CheckKind::null_rate);
  nulls.last->verdict.observed = 0.025;
  const std::string html = page({rows, nulls});
  CHECK(html.find("<td>3 rows</td>") != std::string::npos);
  CHECK(html.find("<td>2.5% NULL</td>") != std::string::npos);
}

TEST_CASE("status page: a rule not yet evaluated shows as pending with no times") {
  const std::string html = page({rule_named("fresh_rule")});
  CHECK(html.find("<span class=\"badge none\">pending</span>") != std::string::npos);
  CHECK(html.find("<td>—</td><td></td><td>—</td><td>—</td></tr>") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Incidents

TEST_CASE("status page: an open incident shows its windows and backfill attempts") {
  const Incident incident = incident_for("events_hourly");
  const std::string html = page({evaluated("events_hourly", Status::fail)}, {incident},
                                {{incident.id,
                                  {request_for(incident, 1, RequestState::failed, "exit status 3"),
                                   request_for(incident, 2, RequestState::pending)}}});
  CHECK(html.find("<h2>Open incidents (1)</h2>") != std::string::npos);
  CHECK(html.find("<a href=\"/api/v1/incidents/7\">7</a>") != std::string::npos);
  CHECK(html.find("<span class=\"badge backfilling\">backfilling</span>") != std::string::npos);
  CHECK(html.find("events_hourly<br><span class=\"muted\">2 bucket(s) below 10 rows</span>") !=
        std::string::npos);
  CHECK(html.find("<td>2h ago</td>") != std::string::npos);
  CHECK(html.find("<code>2026-03-02T06:00:00Z → 2026-03-02T08:00:00Z</code><br>"
                  "<code>2026-03-02T09:00:00Z → 2026-03-02T10:00:00Z</code><br>") !=
        std::string::npos);
  CHECK(html.find("<code>2026-03-02T06:00:00Z → 2026-03-02T08:00:00Z</code> attempt 1 via "
                  "reload: <b>failed</b> — exit status 3<br>") != std::string::npos);
  CHECK(html.find("<code>2026-03-02T06:00:00Z → 2026-03-02T08:00:00Z</code> attempt 2 via "
                  "reload: <b>pending</b><br>") != std::string::npos);
  CHECK(html.find("acknowledged") == std::string::npos);
}

TEST_CASE("status page: a request waiting out attempt_backoff says when it is due") {
  const Incident incident = incident_for("events_hourly");
  RequestRecord waiting = request_for(incident, 2, RequestState::pending);
  waiting.next_attempt_at = kNow + minutes{5};
  const std::string html = page({evaluated("events_hourly", Status::fail)}, {incident},
                                {{incident.id, {waiting}}});
  CHECK(html.find("attempt 2 via reload: <b>pending</b>, due in 5m<br>") != std::string::npos);
}

TEST_CASE("status page: an incident without requests or windows says so") {
  Incident incident = incident_for("events_hourly");
  incident.windows.clear();
  incident.state = IncidentState::escalated;
  incident.acknowledged_at = kNow - minutes{1};
  const std::string html = page({}, {incident});
  CHECK(html.find("<span class=\"badge escalated\">escalated</span> "
                  "<span class=\"muted\">acknowledged</span>") != std::string::npos);
  CHECK(html.find("<td>—</td><td><span class=\"muted\">none</span></td></tr>") !=
        std::string::npos);
}

// ---------------------------------------------------------------------------
// Segments

// A row_count rule by country whose last evaluation found these segments.
RuleStatus segmented(std::vector<SegmentVerdict> segments) {
  RuleStatus rule = evaluated("orders_by_country", Status::fail);
  rule.last->verdict.observed = 0;
  rule.last->verdict.segments = std::move(segments);
  return rule;
}

TEST_CASE("status page: a segmented rule names its failing and warning segments") {
  const std::string html =
      page({segmented({SegmentVerdict{{"DE"}, Status::pass, 40, ""},
                        SegmentVerdict{{"FR"}, Status::fail, 0, "dark"},
                        SegmentVerdict{{std::nullopt}, Status::fail, 0, "dark"},
                        SegmentVerdict{{"IT"}, Status::warn, 2, "low"}})});
  CHECK(html.find("<td>0 rows<br><span class=\"muted\">failing: FR, null · warn: IT</span></td>") !=
        std::string::npos);
}

TEST_CASE("status page: a long list of failing segments is cut, with the count of the rest") {
  std::vector<SegmentVerdict> segments;
  for (const char* country : {"AT", "BE", "CH", "DE", "ES", "FR", "IT"}) {
    segments.push_back(SegmentVerdict{{country}, Status::fail, 0, "dark"});
  }
  const std::string html = page({segmented(segments)});
  CHECK(html.find("failing: AT, BE, CH, DE, ES and 2 more</span>") != std::string::npos);
}

TEST_CASE("status page: a segmented rule with every segment passing shows only the value") {
  RuleStatus rule = segmented({SegmentVerdict{{"FR"}, Status::pass, 3, ""}});
  rule.last->verdict.observed = 3;
  CHECK(page({rule}).find("<td>3 rows</td>") != std::string::npos);
}

TEST_CASE("status page: windows and requests of a segment name it") {
  Incident incident = incident_for("orders_by_country");
  incident.windows = {Window{kNow - hours{6}, kNow - hours{4}, Status::fail, SegmentKey{"FR"}},
                      Window{kNow - hours{3}, kNow - hours{2}, Status::fail}};
  const std::string html = page({}, {incident},
                                {{incident.id, {request_for(incident, 1, RequestState::pending)}}});
  CHECK(html.find("<code>FR: 2026-03-02T06:00:00Z → 2026-03-02T08:00:00Z</code><br>"
                  "<code>2026-03-02T09:00:00Z → 2026-03-02T10:00:00Z</code><br>") !=
        std::string::npos);
  CHECK(html.find("<code>FR: 2026-03-02T06:00:00Z → 2026-03-02T08:00:00Z</code> attempt 1 via "
                  "reload: <b>pending</b><br>") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Escaping

TEST_CASE("status page: every text from rules, results, incidents and requests is escaped") {
  const std::string evil = "<script>alert(1)</script>";
  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
  RuleStatus rule = evaluated(evil + "rule", Status::fail);
  rule.warehouse = evil + "warehouse";
  rule.table = evil + "table";
  rule.schedule = evil + "schedule";
  rule.last->verdict.message = evil + "message";
  Incident incident = incident_for(evil + "incident rule");
  incident.message = evil + "incident message";
  RequestRecord request = request_for(incident, 1, RequestState::failed, evil + "error");
  request.executor = evil + "executor";
  rule.last->verdict.segments = {SegmentVerdict{{evil + "segment"}, Status::fail, 0, "dark"}};
  incident.windows = {Window{kNow - hours{6}, kNow - hours{4}, Status::fail,
                             SegmentKey{evil + "window segment"}}};
  request.window = incident.windows.front();
  const std::string html = page({rule}, {incident}, {{incident.id, {request}}});

  CHECK(html.find("<script") == std::string::npos);
  for (const std::string_view where : {"rule", "warehouse", "table", "schedule", "message",
                                       "incident rule", "incident message", "error", "executor",
                                       "segment", "window segment"}) {
    CHECK_MESSAGE(html.find(escaped + std::string(where)) != std::string::npos, where);
  }
}

TEST_CASE("status page: quotes in text cannot break out of an attribute") {
  RuleStatus rule = evaluated("quoted", Status::fail);
  rule.last->verdict.message = "\"><img src=x onerror=alert(1)>'";
  const std::string html = page({rule});
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&#39;") != std::string::npos);
}

}  // namespace
}  // namespace gapwatch
