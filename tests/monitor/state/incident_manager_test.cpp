#include "monitor/state/incident_manager.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "monitor/daemon/dispatcher.h"
#include "monitor/daemon/run_tracker.h"
#include "tests/monitor/state/state_support.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"
#include "triggers/backfill_request.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::at;
using testing::open_store;
using testing::TemporaryDirectory;
using testing::value_of;

constexpr std::string_view kRule = "events_hourly";
// Bucket n of a verdict is hour n of this day.
// (Built without parsing: doctest's REQUIRE cannot run during static
// initialisation.)
const Instant kDay = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2};
const Instant kNow = kDay + hours{36};

Instant hour(int n) {
  return kDay + hours{n};
}
Window window(int from_hour, int to_hour) {
  return Window{hour(from_hour), hour(to_hour), Status::fail};
}

// One warehouse-free config: the rule events_hourly, hourly partitions,
// backfilled through the command executor `reload`.
Config make_config(int max_concurrent = 1,
                   RetryPolicy retry = RetryPolicy{3, seconds{10}, seconds{300}}) {
  Config config;
  ExecutorSpec executor;
  executor.name = "reload";
  executor.kind = CommandSpec{};
  executor.max_concurrent = max_concurrent;
  executor.retry = retry;
  config.executors.push_back(std::move(executor));

  RuleConfig rule;
  rule.spec.name = std::string(kRule);
  rule.spec.warehouse = "shop";
  rule.spec.table = QualifiedName{{"analytics", "events"}};
  rule.spec.check = CheckKind::row_count;
  rule.spec.timestamp_column = "created_at";
  rule.spec.severity = Severity::critical;
  rule.spec.partition = PartitionSpec{hours{1}, hours{48}, seconds{0}, utc_zone()};
  BackfillPolicy backfill;
  backfill.executor = "reload";
  backfill.params = {{"dag_id", "events_ingest"}};
  backfill.max_window = hours{3};
  backfill.min_buckets = 1;
  backfill.verify_after = minutes{10};
  backfill.max_attempts = 3;
  rule.backfill = backfill;
  config.rules.push_back(std::move(rule));
  return config;
}

// An evaluation with hourly buckets from hour `first_hour` of kDay, one per
// character: p pass, w warn, f fail.
RuleResult result_of(std::string_view buckets, Instant evaluated_at, int first_hour = 0) {
  RuleResult result;
  result.rule = std::string(kRule);
  result.check = CheckKind::row_count;
  result.warehouse = "shop";
  result.table = "analytics.events";
  result.severity = Severity::critical;
  result.evaluated_at = evaluated_at;
  Verdict& verdict = result.verdict;
  verdict.status = Status::pass;
  int failing = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const Status status = buckets[i] == 'f'   ? Status::fail
                          : buckets[i] == 'w' ? Status::warn
                                              : Status::pass;
    failing += status == Status::fail ? 1 : 0;
    verdict.status = worse(verdict.status, status);
    const Instant start = hour(first_hour + static_cast<int>(i));
    BucketVerdict& bucket = verdict.buckets.emplace_back();
    bucket.start = start;
    bucket.end = start + hours{1};
    bucket.rows = status == Status::pass ? 100 : 3;
    bucket.status = status;
  }
  verdict.windows = merge_windows(verdict.buckets);
  verdict.message = std::to_string(failing) + " bucket(s) below 10 rows";
  return result;
}

// An evaluation of a rule segmented by country: each segment's hourly buckets
// from hour 0 of kDay, one per character as in result_of.
RuleResult segmented_result_of(
    const std::vector<std::pair<SegmentValue, std::string_view>>& segments, Instant evaluated_at) {
  RuleResult result = result_of("", evaluated_at);
  Verdict& verdict = result.verdict;
  for (const auto& [value, buckets] : segments) {
    const auto index = static_cast<std::uint32_t>(verdict.segments.size());
    SegmentVerdict& segment = verdict.segments.emplace_back();
    segment.key = {value};
    segment.status = Status::pass;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      const Status status = buckets[i] == 'f' ? Status::fail : Status::pass;
      segment.status = worse(segment.status, status);
      BucketVerdict& bucket = verdict.buckets.emplace_back();
      bucket.start = hour(static_cast<int>(i));
      bucket.end = bucket.start + hours{1};
      bucket.rows = status == Status::pass ? 100 : 0;
      bucket.status = status;
      bucket.segment = index;
    }
    verdict.status = worse(verdict.status, segment.status);
  }
  verdict.windows = merge_windows(verdict.buckets, verdict.segments);
  verdict.message = "some segments below 10 rows";
  return result;
}

RuleResult error_result(Instant evaluated_at) {
  RuleResult result = result_of("", evaluated_at);
  result.verdict = error_verdict("connection refused");
  return result;
}

std::vector<Window> windows_of(const std::vector<RequestRecord>& requests) {
  std::vector<Window> windows;
  for (const RequestRecord& request : requests) {
    windows.push_back(request.window);
  }
  return windows;
}

std::vector<std::string> event_kinds(StateStore& store, std::int64_t incident) {
  std::vector<std::string> kinds;
  for (const EventRecord& event : value_of(store.events_for_incident(incident))) {
    kinds.push_back(event.kind);
  }
  return kinds;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

struct Fixture {
  TemporaryDirectory directory;
  std::unique_ptr<StateStore> store = open_store(directory.file("state.db"));
  ManualClock clock{kNow};
  Config config = make_config();
  IncidentManager manager{*store, clock, Delivery::send};

  const RuleConfig& rule() const { return config.rules.front(); }

  IncidentEffects record(std::string_view buckets) {
    return record_result(result_of(buckets, clock.now()));
  }
  IncidentEffects record_result(const RuleResult& result) {
    return value_of(manager.record(rule(), result));
  }
  Incident active() {
    const std::optional<Incident> incident = value_of(store->active_incident(std::string(kRule)));
    REQUIRE(incident.has_value());
    return *incident;
  }
  Incident incident(std::int64_t id) {
    const std::optional<Incident> found = value_of(store->incident(id));
    REQUIRE(found.has_value());
    return *found;
  }
  RequestRecord request(const std::string& id) {
    const std::optional<RequestRecord> found = value_of(store->request(id));
    REQUIRE(found.has_value());
    return *found;
  }
  std::vector<RequestRecord> in_state(RequestState state) {
    return value_of(store->requests_in_state(state));
  }
  // "pf" opens an incident; its attempt 1 runs without bringing the data, and
  // the evaluation 30 s later fails it and queues attempt 2. That evaluation.
  IncidentEffects first_attempt_fails() {
    const IncidentEffects opened = record("pf");
    REQUIRE(opened.new_requests.size() == 1);
    deliver(opened.new_requests[0].id, RequestState::succeeded, seconds{1});
    clock.advance(seconds{30});
    IncidentEffects effects = record("pf");
    REQUIRE(effects.new_requests.size() == 1);
    return effects;
  }
  // The latest event of `kind` in the incident's history.
  EventRecord last_event(std::int64_t incident, std::string_view kind) {
    const std::vector<EventRecord> events = value_of(store->events_for_incident(incident));
    const auto found = std::find_if(events.rbegin(), events.rend(),
                                    [&](const EventRecord& event) { return event.kind == kind; });
    REQUIRE(found != events.rend());
    return *found;
  }
  // What the dispatcher does when the executor reports `state` for request
  // `id`: claim it, then record the outcome with a deadline for verification.
  void deliver(const std::string& id, RequestState state, seconds verify_in) {
    REQUIRE(value_of(store->claim_request(id, clock.now())));
    RequestRecord delivered = request(id);
    delivered.state = state;
    delivered.verify_by = clock.now() + verify_in;
    delivered.updated_at = clock.now();
    REQUIRE(store->update_request(delivered).has_value());
    if (delivered.incident_id) {
      REQUIRE(manager.refresh_state(*delivered.incident_id).has_value());
    }
  }
};

// ---------------------------------------------------------------------------
// IncidentManager

TEST_CASE("incident manager: a fail opens one incident and queues exactly the failing windows") {
  Fixture f;
  // Hours 1-4 and 6 fail, hour 8 only warns.
  const IncidentEffects effects = f.record("pffffpfpwp");
  CHECK(effects.opened);
  CHECK_FALSE(effects.resolved);
  CHECK_FALSE(effects.escalated);
  REQUIRE(effects.incident_id.has_value());

  const Incident incident = f.active();
  CHECK(incident.id == *effects.incident_id);
  CHECK(incident.rule == kRule);
  CHECK(incident.state == IncidentState::backfilling);
  CHECK(incident.severity == Severity::critical);
  CHECK(incident.opened_at == kNow);
  CHECK(incident.message == "5 bucket(s) below 10 rows");
  CHECK(incident.windows == std::vector<Window>{window(1, 5), window(6, 7)});

  // Hours 1-4 merged, then cut at max_window (3h); hour 6 on its own.
  const std::vector<Window> expected{window(1, 4), window(4, 5), window(6, 7)};
  CHECK(windows_of(effects.new_requests) == expected);
  const std::vector<RequestRecord> queued = value_of(f.store->requests_for_incident(incident.id));
  REQUIRE(windows_of(queued) == expected);
  for (const RequestRecord& request : queued) {
    CAPTURE(request.window);
    CHECK(request.id ==
          make_request_id(kRule, SegmentKey{}, request.window.start, request.window.end, 1));
    CHECK(request.incident_id == incident.id);
    CHECK(request.rule == kRule);
    CHECK(request.executor == "reload");
    CHECK(request.attempt == 1);
    CHECK(request.state == RequestState::pending);
    CHECK(request.deliveries == 0);
    CHECK(request.next_attempt_at == kNow);
    CHECK(request.created_at == kNow);
  }
  // The template values are stored, so a resend is identical.
  const auto values = nlohmann::json::parse(queued[0].values_json);
  CHECK(values.at("window_start") == "2026-03-02T01:00:00Z");
  CHECK(values.at("window_end") == "2026-03-02T04:00:00Z");
  CHECK(values.at("table") == "analytics.events");
  CHECK(values.at("request_id") == queued[0].id);
  CHECK(values.at("incident_id") == std::to_string(incident.id));
  CHECK(values.at("attempt") == "1");
  CHECK(values.at("dag_id") == "events_ingest");

  CHECK(event_kinds(*f.store, incident.id) ==
        std::vector<std::string>{"opened", "request_created", "request_created", "request_created",
                                 "state_backfilling"});
  CHECK(value_of(f.store->due_requests(kNow)).size() == 3);
}

TEST_CASE("incident manager: a repeated fail updates the incident and queues nothing outstanding") {
  Fixture f;
  const IncidentEffects first = f.record("pfpf");
  REQUIRE(first.new_requests.size() == 2);
  f.clock.advance(minutes{5});

  SUBCASE("same windows") {
    const IncidentEffects second = f.record("pfpf");
    CHECK_FALSE(second.opened);
    CHECK(second.incident_id == first.incident_id);
    CHECK(second.new_requests.empty());
    CHECK(value_of(f.store->requests_for_rule(std::string(kRule))).size() == 2);
    CHECK(f.active().updated_at == kNow + minutes{5});
  }
  SUBCASE("while sending or awaiting verification") {
    REQUIRE(value_of(f.store->claim_request(first.new_requests[0].id, f.clock.now())));
    f.deliver(first.new_requests[1].id, RequestState::accepted, minutes{10});
    CHECK(f.record("pfpf").new_requests.empty());
  }
  SUBCASE("a newly failing bucket is requested on its own") {
    const IncidentEffects second = f.record("pfpfpf");
    CHECK_FALSE(second.opened);
    CHECK(windows_of(second.new_requests) == std::vector<Window>{window(5, 6)});
    CHECK(f.active().windows == std::vector<Window>{window(1, 2), window(3, 4), window(5, 6)});
  }
  CHECK(value_of(f.store->incidents(IncidentFilter::all)).size() == 1);
}

TEST_CASE("incident manager: warn and error open nothing and queue nothing") {
  Fixture f;
  SUBCASE("warn") {
    const IncidentEffects effects = f.record("pwwp");
    CHECK_FALSE(effects.incident_id.has_value());
    CHECK(effects.new_requests.empty());
  }
  SUBCASE("error") {
    const IncidentEffects effects =
        value_of(f.manager.record(f.rule(), error_result(f.clock.now())));
    CHECK_FALSE(effects.incident_id.has_value());
    CHECK(effects.log.empty());
  }
  CHECK(value_of(f.store->incidents(IncidentFilter::all)).empty());
  CHECK(value_of(f.store->requests_for_rule(std::string(kRule))).empty());
}

TEST_CASE("incident manager: an error leaves an open incident and its requests alone") {
  Fixture f;
  const IncidentEffects opened = f.record("pf");
  f.clock.advance(minutes{5});
  const IncidentEffects effects = value_of(f.manager.record(f.rule(), error_result(f.clock.now())));
  CHECK_FALSE(effects.resolved);
  CHECK(effects.new_requests.empty());
  const Incident incident = f.active();
  CHECK(incident.id == *opened.incident_id);
  CHECK(incident.state == IncidentState::backfilling);
  CHECK(incident.updated_at == kNow);
  CHECK(f.request(opened.new_requests[0].id).state == RequestState::pending);
}

TEST_CASE("incident manager: a warn resolves an open incident, as a pass does") {
  Fixture f;
  const IncidentEffects opened = f.record("pf");
  const IncidentEffects effects = f.record("pw");
  CHECK(effects.resolved);
  CHECK(f.incident(*opened.incident_id).state == IncidentState::resolved);
  CHECK(f.request(opened.new_requests[0].id).state == RequestState::cancelled);
  CHECK(value_of(f.store->due_requests(kNow)).empty());
}

TEST_CASE("incident manager: a pass resolves the incident and cancels what was not sent") {
  Fixture f;
  const IncidentEffects opened = f.record("pfpfpf");
  REQUIRE(opened.new_requests.size() == 3);
  const std::string pending = opened.new_requests[0].id;
  const std::string sending = opened.new_requests[1].id;
  const std::string accepted = opened.new_requests[2].id;
  REQUIRE(value_of(f.store->claim_request(sending, f.clock.now())));
  f.deliver(accepted, RequestState::accepted, minutes{10});
  f.clock.advance(minutes{2});

  const IncidentEffects effects = f.record("pppppp");
  CHECK(effects.resolved);
  CHECK(effects.incident_id == opened.incident_id);
  CHECK(effects.new_requests.empty());
  const Incident incident = f.incident(*opened.incident_id);
  CHECK(incident.state == IncidentState::resolved);
  CHECK(incident.resolved_at == kNow + minutes{2});
  // The rule passed again: healed, so a baseline may learn from its windows.
  CHECK(incident.resolution == Resolution::healed);
  CHECK_FALSE(value_of(f.store->active_incident(std::string(kRule))).has_value());

  CHECK(f.request(pending).state == RequestState::cancelled);
  // A delivery under way is left for the dispatcher to settle.
  CHECK(f.request(sending).state == RequestState::sending);
  // The data arrived: the accepted request is verified.
  CHECK(f.request(accepted).state == RequestState::verified);
  CHECK(value_of(f.store->due_requests(f.clock.now())).empty());
  CHECK(contains(event_kinds(*f.store, incident.id), "resolved"));

  SUBCASE("a pass without an incident changes nothing") {
    const IncidentEffects again = f.record("pppppp");
    CHECK_FALSE(again.resolved);
    CHECK_FALSE(again.incident_id.has_value());
  }
  SUBCASE("a later fail opens a new incident and never reuses a request id") {
    const IncidentEffects reopened = f.record("pf");
    CHECK(reopened.opened);
    CHECK(reopened.incident_id != opened.incident_id);
    REQUIRE(reopened.new_requests.size() == 1);
    CHECK(reopened.new_requests[0].window == window(1, 2));
    CHECK(reopened.new_requests[0].attempt == 2);
    CHECK(reopened.new_requests[0].id != pending);
  }
}

TEST_CASE("incident manager: requests are verified when their window passes") {
  Fixture f;
  const IncidentEffects opened = f.record("pfpf");
  REQUIRE(opened.new_requests.size() == 2);
  const std::string ran = opened.new_requests[0].id;     // hour 1, a command
  const std::string queued = opened.new_requests[1].id;  // hour 3, a webhook
  f.deliver(ran, RequestState::succeeded, seconds{1});
  f.deliver(queued, RequestState::accepted, minutes{10});
  CHECK(f.active().state == IncidentState::verifying);

  // Five minutes on hour 1 is back, hour 3 not yet (but within verify_after).
  f.clock.advance(minutes{5});
  IncidentEffects effects = f.record("pppf");
  CHECK(effects.new_requests.empty());
  CHECK(f.request(ran).state == RequestState::verified);
  CHECK(f.request(queued).state == RequestState::accepted);
  CHECK(f.active().state == IncidentState::verifying);
  CHECK(f.active().windows == std::vector<Window>{window(3, 4)});

  SUBCASE("still failing after verify_by: the attempt failed and the next one is queued") {
    f.clock.advance(minutes{6});
    effects = f.record("pppf");
    const RequestRecord failed = f.request(queued);
    CHECK(failed.state == RequestState::failed);
    CHECK_FALSE(failed.last_error.empty());
    REQUIRE(effects.new_requests.size() == 1);
    const RequestRecord& next = effects.new_requests[0];
    CHECK(next.window == window(3, 4));
    CHECK(next.attempt == 2);
    CHECK(next.id != queued);
    CHECK(next.id == make_request_id(kRule, SegmentKey{}, hour(3), hour(4), 2));
    CHECK(f.request(next.id).state == RequestState::pending);
    CHECK(f.active().state == IncidentState::backfilling);
    const std::vector<std::string> kinds = event_kinds(*f.store, *opened.incident_id);
    CHECK(contains(kinds, "request_verified"));
    CHECK(contains(kinds, "request_unverified"));
  }
  SUBCASE("a run that succeeded without the data fails the attempt with its own reason") {
    RequestRecord followed = f.request(queued);
    RunRecord run;
    run.ref = RunRef{"gapwatch-run", "http://airflow/dags/d/runs/gapwatch-run"};
    run.known = RunRecord::Known::state;
    run.state = RunState::succeeded;
    run.detail = "success";
    run.answered_at = f.clock.now();
    followed.run = run;
    followed.verify_by = f.clock.now() + seconds{1};
    REQUIRE(f.store->update_request(followed).has_value());
    f.clock.advance(seconds{1});
    effects = f.record("pppf");
    const RequestRecord failed = f.request(queued);
    CHECK(failed.state == RequestState::failed);
    CHECK(failed.last_error == "the run succeeded but the window is still below threshold");
    const std::vector<EventRecord> events = value_of(f.store->events_for_incident(*opened.incident_id));
    REQUIRE_FALSE(events.empty());
    bool said = false;
    for (const EventRecord& event : events) {
      said = said || (event.kind == "request_unverified" &&
                      event.detail.find("run gapwatch-run succeeded but data still missing") !=
                          std::string::npos);
    }
    CHECK(said);
    REQUIRE(effects.new_requests.size() == 1);  // the next attempt
  }
  SUBCASE("verify_by counts from the evaluation's start, not from when it is recorded") {
    // An evaluation that began before verify_by but is recorded after it
    // cannot prove the data missing.
    f.clock.advance(minutes{6});
    effects = value_of(f.manager.record(f.rule(), result_of("pppf", kNow + minutes{9})));
    CHECK(effects.new_requests.empty());
    CHECK(f.request(queued).state == RequestState::accepted);
  }
  SUBCASE("then the window passes and the incident resolves") {
    f.clock.advance(minutes{2});
    effects = f.record("pppp");
    CHECK(effects.resolved);
    CHECK(f.request(queued).state == RequestState::verified);
  }
}

TEST_CASE("incident manager: a window that left the judged range unverified expires") {
  Fixture f;
  const IncidentEffects opened = f.record("pfpf");
  REQUIRE(opened.new_requests.size() == 2);
  const std::string old_window = opened.new_requests[0].id;  // hour 1
  const std::string recent = opened.new_requests[1].id;      // hour 3
  f.deliver(old_window, RequestState::succeeded, seconds{1});
  f.deliver(recent, RequestState::accepted, minutes{10});
  f.clock.advance(minutes{5});

  SUBCASE("while the rule still fails") {
    // Hours 0 and 1 are out of the lookback now: nothing says hour 1 arrived.
    f.record_result(result_of("pf", f.clock.now(), 2));
    const RequestRecord expired = f.request(old_window);
    CHECK(expired.state == RequestState::cancelled);
    CHECK(expired.last_error.find("judged range") != std::string::npos);
    CHECK(f.request(recent).state == RequestState::accepted);
    const std::vector<std::string> kinds = event_kinds(*f.store, *opened.incident_id);
    CHECK(contains(kinds, "request_expired"));
    CHECK_FALSE(contains(kinds, "request_verified"));
  }
  SUBCASE("a window not judged yet (delay) waits rather than expiring") {
    f.record_result(result_of("ppf", f.clock.now()));  // hours 0..2: hour 3 is not judged
    CHECK(f.request(old_window).state == RequestState::verified);
    CHECK(f.request(recent).state == RequestState::accepted);
    CHECK_FALSE(contains(event_kinds(*f.store, *opened.incident_id), "request_expired"));
  }
  SUBCASE("when the rule passes: the incident resolves, only the judged window is verified") {
    const IncidentEffects effects = f.record_result(result_of("pp", f.clock.now(), 2));
    CHECK(effects.resolved);
    CHECK(f.request(old_window).state == RequestState::cancelled);
    CHECK(f.request(recent).state == RequestState::verified);
    const std::vector<std::string> kinds = event_kinds(*f.store, *opened.incident_id);
    CHECK(contains(kinds, "request_expired"));
    CHECK(contains(kinds, "request_verified"));
  }
}

TEST_CASE("incident manager: every change of the incident's state is an event") {
  Fixture f;
  const IncidentEffects opened = f.record("pf");
  REQUIRE(opened.new_requests.size() == 1);
  const std::string id = opened.new_requests[0].id;
  f.deliver(id, RequestState::succeeded, seconds{1});
  f.record("pp");
  CHECK(event_kinds(*f.store, *opened.incident_id) ==
        std::vector<std::string>{"opened", "request_created", "state_backfilling",
                                 "state_verifying", "request_verified", "resolved"});
  const std::vector<EventRecord> events = value_of(f.store->events_for_incident(*opened.incident_id));
  CHECK(events[2].detail == "was open");
  CHECK(events[3].detail == "was backfilling");
}

TEST_CASE("incident manager: a pass after the failing window left the lookback is not healed") {
  Fixture f;
  const IncidentEffects opened = f.record("fppp");  // hour 0 fails
  REQUIRE(opened.incident_id);
  f.clock.advance(hours{2});
  // Judged from hour 2 on: hour 0 is no longer judged and was never seen
  // filled. The rule passes, but a baseline must not learn hour 0.
  const IncidentEffects effects = f.record_result(result_of("pppp", f.clock.now(), 2));
  CHECK(effects.resolved);
  const Incident incident = f.incident(*opened.incident_id);
  CHECK(incident.state == IncidentState::resolved);
  CHECK(incident.resolution == Resolution::aged_out);
  const std::vector<Window> unhealed =
      value_of(f.store->unhealed_windows(std::string(kRule), kNow - hours{24}));
  CHECK(unhealed == std::vector<Window>{Window{hour(0), hour(1), Status::fail}});
}

TEST_CASE("incident manager: a request cancelled unsent by a resolution is an event") {
  Fixture f;
  const IncidentEffects opened = f.record("pf");
  REQUIRE(opened.new_requests.size() == 1);
  f.record("pp");
  CHECK(f.request(opened.new_requests[0].id).state == RequestState::cancelled);
  CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_cancelled"));
}

TEST_CASE("incident manager: after max_attempts failed attempts the incident escalates") {
  Fixture f;
  IncidentEffects effects = f.record("pf");
  const std::int64_t incident = *effects.incident_id;
  std::vector<std::string> ids;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CAPTURE(attempt);
    REQUIRE(effects.new_requests.size() == 1);
    CHECK(effects.new_requests[0].attempt == attempt);
    ids.push_back(effects.new_requests[0].id);
    f.deliver(ids.back(), RequestState::succeeded, seconds{1});
    f.clock.advance(seconds{30});
    effects = f.record("pf");
    CHECK(f.request(ids.back()).state == RequestState::failed);
  }
  CHECK(effects.escalated);
  CHECK(effects.new_requests.empty());
  CHECK(f.active().state == IncidentState::escalated);
  CHECK(contains(event_kinds(*f.store, incident), "escalated"));
  // Three attempts, three different request ids.
  std::sort(ids.begin(), ids.end());
  CHECK(std::unique(ids.begin(), ids.end()) == ids.end());

  // Escalated: nothing more is queued, however often it fails.
  f.clock.advance(minutes{5});
  effects = f.record("pf");
  CHECK(effects.new_requests.empty());
  CHECK_FALSE(effects.escalated);
  CHECK(f.active().state == IncidentState::escalated);
  CHECK(value_of(f.store->requests_for_rule(std::string(kRule))).size() == 3);
  CHECK(value_of(f.store->due_requests(f.clock.now())).empty());

  SUBCASE("an operator retry re-enables dispatch with a fresh attempt") {
    REQUIRE(f.manager.retry(incident, "alice").has_value());
    Incident retried = f.incident(incident);
    CHECK(retried.state == IncidentState::open);
    CHECK(retried.retried_at == f.clock.now());
    CHECK(contains(event_kinds(*f.store, incident), "retried"));
    f.clock.advance(minutes{1});
    effects = f.record("pf");
    REQUIRE(effects.new_requests.size() == 1);
    CHECK(effects.new_requests[0].attempt == 4);
    CHECK(f.active().state == IncidentState::backfilling);
    CHECK(value_of(f.store->due_requests(f.clock.now())).size() == 1);
  }
  SUBCASE("a pass still resolves an escalated incident") {
    effects = f.record("pp");
    CHECK(effects.resolved);
    CHECK(f.incident(incident).state == IncidentState::resolved);
  }
}

// Issue 14, item 6: a loader that exits 0 without bringing the data had
// attempts 1, 2 and 3 and the escalation within 3 seconds.
TEST_CASE("incident manager: a failed attempt waits attempt_backoff, doubling, before the next") {
  Fixture f;  // backfill.attempt_backoff left at its default, 5m
  IncidentEffects effects = f.record("pf");
  REQUIRE(effects.new_requests.size() == 1);
  CHECK(effects.new_requests[0].next_attempt_at == kNow);  // the first attempt goes at once
  const std::string first = effects.new_requests[0].id;

  // The loader ran, the data is still missing: attempt 1 failed at +30s.
  f.deliver(first, RequestState::succeeded, seconds{1});
  f.clock.advance(seconds{30});
  const Instant first_failed = f.clock.now();
  effects = f.record("pf");
  CHECK(f.request(first).state == RequestState::failed);
  REQUIRE(effects.new_requests.size() == 1);
  const RequestRecord second = effects.new_requests[0];
  CHECK(second.attempt == 2);
  CHECK(second.next_attempt_at == first_failed + minutes{5});
  CHECK(f.request(second.id).next_attempt_at == first_failed + minutes{5});
  CHECK(value_of(f.store->due_requests(f.clock.now())).empty());
  CHECK(value_of(f.store->due_requests(first_failed + minutes{5} - seconds{1})).empty());
  CHECK(value_of(f.store->due_requests(first_failed + minutes{5})).size() == 1);

  // Evaluations while it waits plan nothing more for the window.
  f.clock.advance(minutes{1});
  CHECK(f.record("pf").new_requests.empty());

  // Attempt 2 runs when due and fails too: attempt 3 waits twice as long.
  f.clock.set(second.next_attempt_at);
  f.deliver(second.id, RequestState::succeeded, seconds{1});
  f.clock.advance(seconds{20});
  const Instant second_failed = f.clock.now();
  effects = f.record("pf");
  REQUIRE(effects.new_requests.size() == 1);
  const RequestRecord third = effects.new_requests[0];
  CHECK(third.attempt == 3);
  CHECK(third.next_attempt_at == second_failed + minutes{10});

  // Attempt 3 fails: max_attempts (3) is reached and the incident escalates.
  f.clock.set(third.next_attempt_at);
  f.deliver(third.id, RequestState::succeeded, seconds{1});
  f.clock.advance(seconds{20});
  effects = f.record("pf");
  CHECK(effects.escalated);
  CHECK(effects.new_requests.empty());
  // From the first failure to the escalation: 5m + 10m and the loader's runs.
  CHECK(f.clock.now() - first_failed == minutes{15} + seconds{40});
}

TEST_CASE("incident manager: the wait counts from the failure on record, so a restart keeps it") {
  Fixture f;
  const IncidentEffects opened = f.record("pf");
  REQUIRE(opened.new_requests.size() == 1);
  // The dispatcher gave up on attempt 1 (the loader exited 1) at kNow.
  REQUIRE(value_of(f.store->claim_request(opened.new_requests[0].id, kNow)));
  RequestRecord failed = f.request(opened.new_requests[0].id);
  failed.state = RequestState::failed;
  failed.last_error = "exit status 1";
  failed.updated_at = kNow;
  REQUIRE(f.store->update_request(failed).has_value());

  // gapwatch restarts two minutes later: a new manager on a new connection.
  f.clock.advance(minutes{2});
  const std::unique_ptr<StateStore> reopened = open_store(f.directory.file("state.db"));
  IncidentManager restarted{*reopened, f.clock, Delivery::send};
  const IncidentEffects effects =
      value_of(restarted.record(f.rule(), result_of("pf", f.clock.now())));
  REQUIRE(effects.new_requests.size() == 1);
  CHECK(effects.new_requests[0].attempt == 2);
  CHECK(effects.new_requests[0].next_attempt_at == kNow + minutes{5});
}

TEST_CASE("incident manager: attempt_backoff 0s sends the next attempt at once, as before") {
  Fixture f;
  f.config.rules.front().backfill->attempt_backoff = seconds{0};
  const IncidentEffects opened = f.record("pf");
  f.deliver(opened.new_requests.at(0).id, RequestState::succeeded, seconds{1});
  f.clock.advance(seconds{2});
  const IncidentEffects effects = f.record("pf");
  REQUIRE(effects.new_requests.size() == 1);
  CHECK(effects.new_requests[0].attempt == 2);
  CHECK(effects.new_requests[0].next_attempt_at == f.clock.now());
  CHECK(value_of(f.store->due_requests(f.clock.now())).size() == 1);
}

TEST_CASE("incident manager: the escalation is a warning that says why") {
  Fixture f;
  f.config.rules.front().backfill->attempt_backoff = seconds{0};
  IncidentEffects effects = f.record("pf");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    REQUIRE(effects.new_requests.size() == 1);
    CHECK(effects.warnings.empty());
    f.deliver(effects.new_requests[0].id, RequestState::succeeded, seconds{1});
    f.clock.advance(seconds{2});
    effects = f.record("pf");
  }
  REQUIRE(effects.escalated);
  REQUIRE(effects.warnings.size() == 1);
  CHECK(effects.warnings[0] ==
        fmt::format("incident #{} for events_hourly escalated: window 2026-03-02T01:00:00Z .. "
                    "2026-03-02T02:00:00Z still fails after 3 failed attempt(s); the last: the "
                    "backfill was delivered but the window still fails; nothing more is sent "
                    "until an operator retries or resolves it",
                    *effects.incident_id));
  const std::vector<EventRecord> events = value_of(f.store->events_for_incident(*effects.incident_id));
  CHECK(events.back().kind == "escalated");
  CHECK(events.back().detail.find("the last: the backfill was delivered") != std::string::npos);
}

TEST_CASE("incident manager: the next attempt's wait is in its request_created event") {
  Fixture f;
  const IncidentEffects effects = f.first_attempt_fails();
  CHECK(f.last_event(*effects.incident_id, "request_created").detail ==
        "queued window 2026-03-02T01:00:00Z .. 2026-03-02T02:00:00Z attempt 2 for reload, due "
        "2026-03-03T12:05:30Z (backfill.attempt_backoff after the last failed attempt)");
}

TEST_CASE("incident manager: an operator retry sends what waits out a backoff at once") {
  Fixture f;
  const IncidentEffects effects = f.first_attempt_fails();
  const std::string waiting = effects.new_requests[0].id;
  REQUIRE(value_of(f.store->due_requests(f.clock.now())).empty());

  REQUIRE(f.manager.retry(*effects.incident_id, "alice").has_value());
  CHECK(f.request(waiting).next_attempt_at == f.clock.now());
  CHECK(value_of(f.store->due_requests(f.clock.now())).size() == 1);
  CHECK(f.last_event(*effects.incident_id, "retried").detail ==
        "retried by alice: attempts count afresh; 1 waiting request(s) due now");
}

TEST_CASE("incident manager: operators acknowledge, resolve and retry") {
  Fixture f;
  const IncidentEffects opened = f.record("pfpf");
  const std::int64_t id = *opened.incident_id;
  CHECK_FALSE(f.incident(id).resolution.has_value());  // active
  f.clock.advance(minutes{3});

  SUBCASE("acknowledge") {
    REQUIRE(f.manager.acknowledge(id, "alice").has_value());
    const Incident incident = f.incident(id);
    CHECK(incident.acknowledged_at == kNow + minutes{3});
    CHECK(incident.state == IncidentState::backfilling);
    const std::vector<EventRecord> events = value_of(f.store->events_for_incident(id));
    CHECK(events.back().kind == "acknowledged");
    CHECK(events.back().detail.find("alice") != std::string::npos);
  }
  SUBCASE("resolve cancels everything outstanding") {
    f.deliver(opened.new_requests[1].id, RequestState::accepted, minutes{10});
    REQUIRE(f.manager.resolve(id, "bob").has_value());
    const Incident incident = f.incident(id);
    CHECK(incident.state == IncidentState::resolved);
    CHECK(incident.resolved_at == kNow + minutes{3});
    // Resolved by a person, not by the data: not healed.
    CHECK(incident.resolution == Resolution::by_operator);
    CHECK(f.request(opened.new_requests[0].id).state == RequestState::cancelled);
    // Nobody saw the data arrive: cancelled, not verified.
    CHECK(f.request(opened.new_requests[1].id).state == RequestState::cancelled);
    const std::vector<EventRecord> events = value_of(f.store->events_for_incident(id));
    CHECK(events.back().kind == "resolved");
    CHECK(events.back().detail.find("bob") != std::string::npos);

    CHECK(testing::error_of(f.manager.resolve(id, "bob")).find("already resolved") !=
          std::string::npos);
    CHECK(testing::error_of(f.manager.retry(id, "bob")).find("resolved") != std::string::npos);
    // The rule failing again opens a new incident.
    CHECK(f.record("pf").opened);
  }
  SUBCASE("unknown incidents") {
    CHECK(testing::error_of(f.manager.acknowledge(id + 100, "alice")).find("no incident") !=
          std::string::npos);
    CHECK(testing::error_of(f.manager.resolve(id + 100, "alice")).find("no incident") !=
          std::string::npos);
    CHECK(testing::error_of(f.manager.retry(id + 100, "alice")).find("no incident") !=
          std::string::npos);
  }
}

TEST_CASE("incident manager: a dry run records requests but never makes them pending") {
  Fixture f;
  IncidentManager dry(*f.store, f.clock, Delivery::dry_run);
  const IncidentEffects effects = value_of(dry.record(f.rule(), result_of("pfpf", kNow)));
  CHECK(effects.opened);
  REQUIRE(effects.new_requests.size() == 2);
  for (const RequestRecord& request : value_of(f.store->requests_for_rule(std::string(kRule)))) {
    CHECK(request.state == RequestState::dry_run);
  }
  CHECK(f.in_state(RequestState::pending).empty());
  CHECK(value_of(f.store->due_requests(kNow + hours{1})).empty());
  CHECK_FALSE(value_of(f.store->next_due()).has_value());
  CHECK(contains(event_kinds(*f.store, *effects.incident_id), "request_dry_run"));

  // Recorded once, not again at every evaluation.
  f.clock.advance(minutes{5});
  CHECK(value_of(dry.record(f.rule(), result_of("pfpf", f.clock.now()))).new_requests.empty());

  const RequestRecord manual = value_of(dry.manual_request(f.rule(), "reload", hour(6), hour(7)));
  CHECK(manual.state == RequestState::dry_run);
  CHECK(f.in_state(RequestState::pending).empty());

  // A pass cancels them like any unsent request.
  CHECK(value_of(dry.record(f.rule(), result_of("pppp", f.clock.now()))).resolved);
  CHECK(f.in_state(RequestState::dry_run).empty());
}

TEST_CASE("incident manager: manual requests number their attempts per window") {
  Fixture f;
  const RequestRecord first =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(1), hour(2)));
  CHECK(first.attempt == 1);
  CHECK(first.id == make_request_id(kRule, SegmentKey{}, hour(1), hour(2), 1));
  CHECK_FALSE(first.incident_id.has_value());
  CHECK(first.state == RequestState::pending);
  CHECK(f.request(first.id).executor == "reload");

  const RequestRecord second =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(1), hour(2)));
  CHECK(second.attempt == 2);
  CHECK(second.id != first.id);

  const RequestRecord overlapping =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(0), hour(3)));
  CHECK(overlapping.attempt == 3);
  const RequestRecord elsewhere =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(5), hour(6)));
  CHECK(elsewhere.attempt == 1);
  // Adjacent is not overlapping.
  const RequestRecord adjacent =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(6), hour(7)));
  CHECK(adjacent.attempt == 1);

  SUBCASE("attached to the rule's active incident") {
    const IncidentEffects opened = f.record("pppppppppf");
    const RequestRecord attached =
        value_of(f.manager.manual_request(f.rule(), "reload", hour(20), hour(21)));
    CHECK(attached.incident_id == opened.incident_id);
    CHECK(f.active().state == IncidentState::backfilling);
    CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_manual"));
  }
}

TEST_CASE(
    "incident manager: a manual backfill that ran outside any incident does not block later "
    "requests") {
  Fixture f;
  const RequestRecord manual =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(1), hour(2)));
  f.deliver(manual.id, RequestState::succeeded, seconds{1});
  f.clock.advance(hours{1});

  // Later the window fails: the manual run evidently did not bring the data.
  const IncidentEffects effects = f.record("pf");
  CHECK(effects.opened);
  CHECK(f.request(manual.id).state == RequestState::failed);
  REQUIRE(effects.new_requests.size() == 1);
  CHECK(effects.new_requests[0].window == window(1, 2));
  CHECK(effects.new_requests[0].attempt == 2);
}

// ---------------------------------------------------------------------------
// Dispatcher

// Blocks deliveries until opened (or until the dispatcher asks them to stop).
class Gate {
 public:
  void open() {
    std::lock_guard lock(m_mutex);
    m_open = true;
    m_changed.notify_all();
  }
  // Waits until the gate opens; false when `stop` came first.
  bool pass(std::stop_token stop) {
    std::unique_lock lock(m_mutex);
    ++m_waiting;
    m_changed.notify_all();
    const bool opened = m_changed.wait(lock, stop, [&] { return m_open; });
    --m_waiting;
    return opened;
  }
  // Waits (bounded, so a broken dispatcher fails the test instead of hanging
  // it) until `count` deliveries are held at the gate.
  bool wait_for_waiting(int count) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, std::chrono::seconds{30}, [&] { return m_waiting >= count; });
  }

 private:
  std::mutex m_mutex;
  std::condition_variable_any m_changed;
  bool m_open = false;
  int m_waiting = 0;
};

// An executor that answers from a script, synchronously; when the script runs
// out every request has "ran". Optionally held at a gate, and with a hook that
// runs first (to look at the state database from inside a delivery). Runs an
// earlier process left are scripted too (earlier_run), and awaited at a gate
// of their own.
class FakeExecutor final : public Executor {
 public:
  std::function<void(const BackfillRequest&)> on_dispatch;
  Gate* gate = nullptr;
  Gate* earlier_gate = nullptr;
  Gate* poll_gate = nullptr;  // holds each poll of a run until opened

  // A run of `id` that an earlier process left, and how it ended (nullopt:
  // it was cut short).
  void earlier_run(const std::string& id, std::optional<DispatchOutcome> outcome) {
    std::lock_guard lock(m_mutex);
    m_earlier.insert_or_assign(id, std::move(outcome));
  }
  Expected<bool> has_earlier_run(const BackfillRequest& request) override {
    std::lock_guard lock(m_mutex);
    return m_earlier.contains(request.id);
  }
  std::optional<DispatchOutcome> await_earlier_run(const BackfillRequest& request,
                                                   std::stop_token stop) override {
    if (earlier_gate != nullptr && !earlier_gate->pass(stop)) {
      return std::nullopt;
    }
    std::lock_guard lock(m_mutex);
    const auto found = m_earlier.find(request.id);
    return found == m_earlier.end() ? std::nullopt : found->second;
  }

  void script(DispatchOutcome outcome) {
    std::lock_guard lock(m_mutex);
    m_script.push_back(std::move(outcome));
  }
  // What the next polls of a run say, in order; once they run out, a poll
  // says the executor does not follow runs (nullopt).
  void script_poll(RunPoll poll) {
    std::lock_guard lock(m_mutex);
    m_polls.push_back(std::move(poll));
  }
  std::optional<RunPoll> poll_run(const BackfillRequest& request, const RunRef& run,
                                  std::stop_token stop) override {
    if (poll_gate != nullptr && !poll_gate->pass(stop)) {
      return RunPoll{RunPoll::Kind::unreachable, RunState::queued, "interrupted", std::nullopt};
    }
    std::lock_guard lock(m_mutex);
    m_polled.push_back(request.id + " " + run.id);
    if (m_polls.empty()) {
      return std::nullopt;
    }
    RunPoll poll = m_polls.front();
    m_polls.pop_front();
    return poll;
  }
  std::vector<std::string> polled() const {
    std::lock_guard lock(m_mutex);
    return m_polled;
  }

  DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) override {
    {
      std::lock_guard lock(m_mutex);
      m_seen.push_back(request.id);
      ++m_active;
      m_most_active = std::max(m_most_active, m_active);
    }
    if (on_dispatch) {
      on_dispatch(request);
    }
    DispatchOutcome outcome{DispatchOutcome::Kind::ran, "exit status 0", "done\n", std::nullopt, std::nullopt};
    if (gate != nullptr && !gate->pass(stop)) {
      outcome = DispatchOutcome{DispatchOutcome::Kind::retry, "interrupted", "", std::nullopt, std::nullopt};
    } else {
      std::lock_guard lock(m_mutex);
      if (!m_script.empty()) {
        outcome = m_script.front();
        m_script.pop_front();
      }
    }
    std::lock_guard lock(m_mutex);
    --m_active;
    return outcome;
  }

  std::vector<std::string> seen() const {
    std::lock_guard lock(m_mutex);
    return m_seen;
  }
  int most_active() const {
    std::lock_guard lock(m_mutex);
    return m_most_active;
  }

 private:
  mutable std::mutex m_mutex;
  std::map<std::string, std::optional<DispatchOutcome>> m_earlier;
  std::deque<DispatchOutcome> m_script;
  std::deque<RunPoll> m_polls;
  std::vector<std::string> m_polled;
  std::vector<std::string> m_seen;
  int m_active = 0;
  int m_most_active = 0;
};

struct DispatchFixture : Fixture {
  explicit DispatchFixture(int max_concurrent = 1) {
    config = make_config(max_concurrent);
    executor = std::make_unique<FakeExecutor>();
    fake = executor.get();
  }

  Dispatcher& dispatcher() {
    if (!m_dispatcher) {
      std::map<std::string, std::unique_ptr<Executor>> executors;
      executors.emplace("reload", std::move(executor));
      m_dispatcher =
          std::make_unique<Dispatcher>(config, *store, manager, clock, std::move(executors),
                                       [this](const DispatchReport& report) {
                                         std::lock_guard lock(m_reports_mutex);
                                         m_reports.push_back(report);
                                       });
    }
    return *m_dispatcher;
  }
  // Starts what is due and waits for every delivery to finish.
  int dispatch_and_wait() {
    const int started = value_of(dispatcher().dispatch_due());
    dispatcher().shutdown(seconds{60});
    return started;
  }
  std::vector<DispatchReport> reports() {
    std::lock_guard lock(m_reports_mutex);
    return m_reports;
  }

  // Declared before the dispatcher, so that they outlive its threads.
  Gate gate;
  std::unique_ptr<FakeExecutor> executor;
  FakeExecutor* fake = nullptr;

 private:
  std::mutex m_reports_mutex;
  std::vector<DispatchReport> m_reports;
  std::unique_ptr<Dispatcher> m_dispatcher;
};

TEST_CASE("dispatcher: a request is committed as sending before its executor sees it") {
  DispatchFixture f;
  const IncidentEffects opened = f.record("pf");
  REQUIRE(opened.new_requests.size() == 1);
  const std::string id = opened.new_requests[0].id;
  // A second connection sees only what is committed.
  auto observer = open_store(f.directory.file("state.db"));
  std::optional<RequestRecord> seen_request;
  std::optional<Incident> seen_incident;
  std::vector<std::string> seen_events;
  std::string seen_id;
  f.fake->on_dispatch = [&](const BackfillRequest& request) {
    seen_id = request.id;
    seen_request = observer->request(request.id).value_or(std::nullopt);
    seen_incident = observer->incident(*opened.incident_id).value_or(std::nullopt);
    for (const EventRecord& event :
         observer->events_for_incident(*opened.incident_id).value_or(std::vector<EventRecord>{})) {
      seen_events.push_back(event.kind);
    }
  };

  CHECK(f.dispatch_and_wait() == 1);
  CHECK(seen_id == id);
  REQUIRE(seen_request.has_value());
  CHECK(seen_request->state == RequestState::sending);
  CHECK(seen_request->deliveries == 1);
  REQUIRE(seen_incident.has_value());
  CHECK(seen_incident->state == IncidentState::backfilling);
  CHECK(contains(seen_events, "request_sending"));

  const RequestRecord ran = f.request(id);
  CHECK(ran.state == RequestState::succeeded);
  CHECK(ran.verify_by == kNow + seconds{1});
  CHECK(ran.output == "done\n");
  CHECK(f.active().state == IncidentState::verifying);
  const std::vector<DispatchReport> reports = f.reports();
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].request.id == id);
  CHECK(reports[0].request.state == RequestState::succeeded);
  CHECK(reports[0].outcome.kind == DispatchOutcome::Kind::ran);
  // Nothing is sent twice.
  CHECK(f.dispatch_and_wait() == 0);
  CHECK(f.fake->seen() == std::vector<std::string>{id});
}

TEST_CASE("dispatcher: outcomes map to request states") {
  DispatchFixture f;
  const IncidentEffects opened = f.record("pf");
  const std::string id = opened.new_requests.at(0).id;

  SUBCASE("ran: awaits verification at once") {
    f.fake->script({DispatchOutcome::Kind::ran, "exit status 0", "copied 42 rows", std::nullopt, std::nullopt});
    CHECK(f.dispatch_and_wait() == 1);
    const RequestRecord request = f.request(id);
    CHECK(request.state == RequestState::succeeded);
    CHECK(request.verify_by == kNow + seconds{1});
    CHECK(request.output == "copied 42 rows");
    CHECK(f.active().state == IncidentState::verifying);
    CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_ran"));
  }
  SUBCASE("accepted: awaits verification after verify_after") {
    f.fake->script({DispatchOutcome::Kind::accepted, "HTTP 202", "{}", std::nullopt, std::nullopt});
    CHECK(f.dispatch_and_wait() == 1);
    const RequestRecord request = f.request(id);
    CHECK(request.state == RequestState::accepted);
    CHECK(request.verify_by == kNow + minutes{10});
    CHECK(f.active().state == IncidentState::verifying);
    CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_accepted"));
  }
  SUBCASE("retry: pending again later with the same id, honouring Retry-After") {
    f.fake->script({DispatchOutcome::Kind::retry, "HTTP 429", "", seconds{120}, std::nullopt});
    CHECK(f.dispatch_and_wait() == 1);
    const RequestRecord request = f.request(id);
    CHECK(request.state == RequestState::pending);
    CHECK(request.deliveries == 1);
    CHECK(request.last_error == "HTTP 429");
    CHECK(request.next_attempt_at >= kNow + seconds{120});
    CHECK(f.active().state == IncidentState::backfilling);
    CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_retry"));
    // Not before its time.
    f.clock.set(request.next_attempt_at - seconds{1});
    CHECK(f.dispatch_and_wait() == 0);
    f.clock.set(request.next_attempt_at);
    CHECK(f.dispatch_and_wait() == 1);
    CHECK(f.fake->seen() == std::vector<std::string>{id, id});
    CHECK(f.request(id).deliveries == 2);
    CHECK(f.request(id).state == RequestState::succeeded);
  }
  SUBCASE("retry without Retry-After: the policy's backoff") {
    f.fake->script({DispatchOutcome::Kind::retry, "connection refused", "", std::nullopt, std::nullopt});
    CHECK(f.dispatch_and_wait() == 1);
    const RequestRecord request = f.request(id);
    CHECK(request.state == RequestState::pending);
    // initial_backoff 10s with equal jitter: 5 to 10 seconds.
    CHECK(request.next_attempt_at >= kNow + seconds{5});
    CHECK(request.next_attempt_at <= kNow + seconds{10});
  }
  SUBCASE("rejected: failed without retry") {
    f.fake->script({DispatchOutcome::Kind::rejected, "HTTP 400", "bad dag_id", std::nullopt, std::nullopt});
    CHECK(f.dispatch_and_wait() == 1);
    const RequestRecord request = f.request(id);
    CHECK(request.state == RequestState::failed);
    CHECK(request.last_error == "HTTP 400");
    CHECK(request.output == "bad dag_id");
    CHECK(f.active().state == IncidentState::open);
    CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_failed"));
    f.clock.advance(hours{1});
    CHECK(f.dispatch_and_wait() == 0);
    CHECK(f.fake->seen().size() == 1);
  }
}

TEST_CASE("dispatcher: gives up after retry.max_attempts deliveries") {
  DispatchFixture f;
  const IncidentEffects opened = f.record("pf");
  const std::string id = opened.new_requests.at(0).id;
  for (int delivery = 1; delivery <= 3; ++delivery) {
    CAPTURE(delivery);
    f.fake->script({DispatchOutcome::Kind::retry, "HTTP 503", "", std::nullopt, std::nullopt});
    REQUIRE(f.dispatch_and_wait() == 1);
    const RequestRecord request = f.request(id);
    CHECK(request.deliveries == delivery);
    if (delivery < 3) {
      CHECK(request.state == RequestState::pending);
      f.clock.set(request.next_attempt_at);
    } else {
      CHECK(request.state == RequestState::failed);
      CHECK(request.last_error == "HTTP 503");
    }
  }
  CHECK(f.fake->seen() == std::vector<std::string>{id, id, id});
  const std::vector<EventRecord> events =
      value_of(f.store->events_for_incident(*opened.incident_id));
  // The last request event says why; the incident has nothing outstanding now.
  REQUIRE(events.size() >= 2);
  CHECK(events[events.size() - 2].kind == "request_failed");
  CHECK(events[events.size() - 2].detail.find("gave up after 3") != std::string::npos);
  CHECK(events.back().kind == "state_open");
  f.clock.advance(hours{1});
  CHECK(f.dispatch_and_wait() == 0);

  // The next evaluation plans attempt 2 of the window.
  const IncidentEffects next = f.record("pf");
  REQUIRE(next.new_requests.size() == 1);
  CHECK(next.new_requests[0].attempt == 2);
}

TEST_CASE("dispatcher: never runs more than max_concurrent deliveries per executor") {
  DispatchFixture f(2);
  Gate& gate = f.gate;
  f.fake->gate = &gate;
  const IncidentEffects opened = f.record("pfpfpfpfpf");
  REQUIRE(opened.new_requests.size() == 5);

  CHECK(value_of(f.dispatcher().dispatch_due()) == 2);
  REQUIRE(gate.wait_for_waiting(2));
  CHECK(f.dispatcher().in_flight() == 2);
  CHECK(f.dispatcher().in_flight("reload") == 2);
  CHECK(f.in_state(RequestState::sending).size() == 2);
  // Full: nothing more starts while both are held.
  CHECK(value_of(f.dispatcher().dispatch_due()) == 0);
  CHECK(f.in_state(RequestState::pending).size() == 3);

  gate.open();
  f.dispatcher().shutdown(seconds{60});
  CHECK(f.dispatcher().in_flight() == 0);
  int rounds = 0;
  while (!f.in_state(RequestState::pending).empty() && rounds < 10) {
    f.dispatch_and_wait();
    ++rounds;
  }
  CHECK(f.in_state(RequestState::succeeded).size() == 5);
  CHECK(f.fake->seen().size() == 5);
  CHECK(f.fake->most_active() == 2);
}

TEST_CASE("dispatcher: resume_interrupted sends a request left sending again with the same id") {
  DispatchFixture f;
  const IncidentEffects opened = f.record("pf");
  const std::string id = opened.new_requests.at(0).id;
  // A crash after the claim: the request is stuck in sending.
  REQUIRE(value_of(f.store->claim_request(id, f.clock.now())));
  f.clock.advance(minutes{1});

  CHECK(value_of(f.dispatcher().resume_interrupted()) == 1);
  RequestRecord resumed = f.request(id);
  CHECK(resumed.state == RequestState::pending);
  CHECK(resumed.next_attempt_at == kNow + minutes{1});
  CHECK(resumed.deliveries == 1);
  CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_resumed"));
  CHECK(value_of(f.dispatcher().resume_interrupted()) == 0);

  CHECK(f.dispatch_and_wait() == 1);
  CHECK(f.fake->seen() == std::vector<std::string>{id});
  CHECK(f.request(id).deliveries == 2);
  CHECK(f.request(id).state == RequestState::succeeded);
}

TEST_CASE("dispatcher: after a crash, a run still under way is awaited in a slot, not doubled") {
  DispatchFixture f;  // max_concurrent 1
  const IncidentEffects opened = f.record("pfpf");
  REQUIRE(opened.new_requests.size() == 2);
  const std::string alive = opened.new_requests[0].id;
  const std::string next = opened.new_requests[1].id;
  // The crash came after the claim; its run lives on under its supervisor.
  REQUIRE(value_of(f.store->claim_request(alive, f.clock.now())));
  f.fake->earlier_gate = &f.gate;
  f.fake->earlier_run(alive, DispatchOutcome{DispatchOutcome::Kind::ran, "exit status 0",
                                             "loaded\n", std::nullopt, std::nullopt});

  CHECK(value_of(f.dispatcher().resume_interrupted()) == 1);
  REQUIRE(f.gate.wait_for_waiting(1));
  CHECK(f.dispatcher().in_flight("reload") == 1);
  CHECK(value_of(f.dispatcher().dispatch_due()) == 0);  // max_concurrent counts it
  CHECK(f.request(alive).state == RequestState::sending);
  CHECK(value_of(f.dispatcher().resume_interrupted()) == 0);  // not awaited twice

  f.gate.open();
  f.dispatcher().shutdown(seconds{60});
  CHECK(f.request(alive).state == RequestState::succeeded);
  CHECK(f.request(alive).output == "loaded\n");
  CHECK(f.fake->seen().empty());  // its outcome was recorded, nothing sent again
  CHECK(f.dispatch_and_wait() == 1);
  CHECK(f.fake->seen() == std::vector<std::string>{next});
}

TEST_CASE("dispatcher: after a crash, a run cut short is sent again unless its incident resolved") {
  DispatchFixture f;
  const IncidentEffects opened = f.record("pf");
  const std::string id = opened.new_requests.at(0).id;
  REQUIRE(value_of(f.store->claim_request(id, f.clock.now())));
  bool resolved = false;
  SUBCASE("its supervisor stopped it when gapwatch died") {
    f.fake->earlier_run(id, std::nullopt);
  }
  SUBCASE("stopped, and the incident resolved meanwhile") {
    f.fake->earlier_run(id, std::nullopt);
    resolved = true;
  }
  SUBCASE("no trace of a run (the crash came before it started), the incident resolved") {
    resolved = true;
  }
  if (resolved) {
    // Resolving leaves a delivery under way to finish on its own.
    REQUIRE(f.record("pp").resolved);
    REQUIRE(f.request(id).state == RequestState::sending);
  }
  CHECK(value_of(f.dispatcher().resume_interrupted()) == 1);
  f.dispatcher().shutdown(seconds{60});  // the awaiting thread, if any, is done
  const std::vector<std::string> kinds = event_kinds(*f.store, *opened.incident_id);
  if (resolved) {
    CHECK(f.request(id).state == RequestState::cancelled);
    CHECK(contains(kinds, "request_cancelled"));
    CHECK(f.dispatch_and_wait() == 0);
    CHECK(f.fake->seen().empty());
  } else {
    CHECK(f.request(id).state == RequestState::pending);
    CHECK(contains(kinds, "request_resumed"));
    CHECK(f.dispatch_and_wait() == 1);
    CHECK(f.fake->seen() == std::vector<std::string>{id});
  }
}

TEST_CASE("dispatcher: a pending request of a resolved incident is cancelled, not sent") {
  DispatchFixture f;
  const IncidentEffects opened = f.record("pf");
  RequestRecord request = opened.new_requests.at(0);
  REQUIRE(value_of(f.store->claim_request(request.id, f.clock.now())));
  REQUIRE(f.record("pp").resolved);
  // As an older gapwatch left it: resumed to pending after its incident resolved.
  request = f.request(request.id);
  request.state = RequestState::pending;
  REQUIRE(f.store->update_request(request).has_value());
  SUBCASE("by the dispatcher's own schedule") { CHECK(f.dispatch_and_wait() == 0); }
  SUBCASE("named by an operator") {
    CHECK(value_of(f.dispatcher().dispatch_due(request.id)) == 0);
  }
  CHECK(f.fake->seen().empty());
  CHECK(f.request(request.id).state == RequestState::cancelled);
  CHECK(contains(event_kinds(*f.store, *opened.incident_id), "request_cancelled"));
}

TEST_CASE("dispatcher: shutdown leaves an interrupted delivery sending for the next start") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  const Config config = make_config();
  ManualClock clock{kNow};
  std::string id;
  {
    auto store = open_store(path);
    IncidentManager manager(*store, clock, Delivery::send);
    const IncidentEffects opened =
        value_of(manager.record(config.rules.front(), result_of("pf", kNow)));
    id = opened.new_requests.at(0).id;
    Gate gate;  // never opened
    auto fake = std::make_unique<FakeExecutor>();
    fake->gate = &gate;
    std::map<std::string, std::unique_ptr<Executor>> executors;
    executors.emplace("reload", std::move(fake));
    int reports = 0;
    Dispatcher dispatcher(config, *store, manager, clock, std::move(executors),
                          [&](const DispatchReport&) { ++reports; });
    CHECK(value_of(dispatcher.dispatch_due()) == 1);
    REQUIRE(gate.wait_for_waiting(1));
    dispatcher.shutdown(seconds{0});
    CHECK(dispatcher.in_flight() == 0);
    CHECK(reports == 0);
    CHECK(value_of(store->request(id))->state == RequestState::sending);
  }
  // The next start.
  clock.advance(minutes{1});
  auto store = open_store(path);
  IncidentManager manager(*store, clock, Delivery::send);
  auto fake = std::make_unique<FakeExecutor>();
  FakeExecutor* executor = fake.get();
  std::map<std::string, std::unique_ptr<Executor>> executors;
  executors.emplace("reload", std::move(fake));
  Dispatcher dispatcher(config, *store, manager, clock, std::move(executors), nullptr);
  CHECK(value_of(dispatcher.resume_interrupted()) == 1);
  CHECK(value_of(dispatcher.dispatch_due()) == 1);
  dispatcher.shutdown(seconds{60});
  CHECK(executor->seen() == std::vector<std::string>{id});
  CHECK(value_of(store->request(id))->state == RequestState::succeeded);
}

TEST_CASE("dispatcher: a delivery that ends after the incident resolved is settled accordingly") {
  DispatchFixture f;
  Gate& gate = f.gate;
  f.fake->gate = &gate;
  const IncidentEffects opened = f.record("pf");
  const std::string id = opened.new_requests.at(0).id;

  SUBCASE("ran: verified") {
    f.fake->script({DispatchOutcome::Kind::ran, "exit status 0", "", std::nullopt, std::nullopt});
    REQUIRE(value_of(f.dispatcher().dispatch_due()) == 1);
    REQUIRE(gate.wait_for_waiting(1));
    REQUIRE(f.record("pp").resolved);
    CHECK(f.request(id).state == RequestState::sending);
    gate.open();
    f.dispatcher().shutdown(seconds{60});
    CHECK(f.request(id).state == RequestState::verified);
  }
  SUBCASE("retry: cancelled, not retried") {
    f.fake->script({DispatchOutcome::Kind::retry, "HTTP 503", "", std::nullopt, std::nullopt});
    REQUIRE(value_of(f.dispatcher().dispatch_due()) == 1);
    REQUIRE(gate.wait_for_waiting(1));
    REQUIRE(f.record("pp").resolved);
    gate.open();
    f.dispatcher().shutdown(seconds{60});
    CHECK(f.request(id).state == RequestState::cancelled);
    f.clock.advance(hours{1});
    CHECK(f.dispatch_and_wait() == 0);
  }
  CHECK(f.incident(*opened.incident_id).state == IncidentState::resolved);
}

TEST_CASE("dispatcher: a request for an executor that is not configured fails") {
  DispatchFixture f;
  const RequestRecord manual =
      value_of(f.manager.manual_request(f.rule(), "gone", hour(1), hour(2)));
  CHECK(f.dispatch_and_wait() == 0);
  const RequestRecord request = f.request(manual.id);
  CHECK(request.state == RequestState::failed);
  CHECK(request.last_error.find("'gone'") != std::string::npos);
  CHECK(f.fake->seen().empty());
}

TEST_CASE("dispatcher: dispatch_due with a request id starts only that one") {
  DispatchFixture f(4);
  const IncidentEffects opened = f.record("pfpf");
  REQUIRE(opened.new_requests.size() == 2);
  const std::string wanted = opened.new_requests[1].id;
  CHECK(value_of(f.dispatcher().dispatch_due(wanted)) == 1);
  f.dispatcher().shutdown(seconds{60});
  CHECK(f.fake->seen() == std::vector<std::string>{wanted});
  CHECK(f.request(opened.new_requests[0].id).state == RequestState::pending);
}

TEST_CASE("dispatcher: an escalated incident dispatches nothing more until retried") {
  DispatchFixture f;
  // Hour 1 fails three attempts while hour 3's request waits out a backoff.
  IncidentEffects effects = f.record("pfpf");
  REQUIRE(effects.new_requests.size() == 2);
  const std::int64_t incident = *effects.incident_id;
  const std::string waiting = effects.new_requests[1].id;
  RequestRecord backoff = f.request(waiting);
  backoff.next_attempt_at = kNow + hours{2};
  REQUIRE(f.store->update_request(backoff).has_value());
  std::string current = effects.new_requests[0].id;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    f.deliver(current, RequestState::succeeded, seconds{1});
    f.clock.advance(seconds{30});
    effects = f.record("pfpf");
    if (attempt < 3) {
      REQUIRE(effects.new_requests.size() == 1);
      current = effects.new_requests[0].id;
    }
  }
  REQUIRE(effects.escalated);
  REQUIRE(f.request(waiting).state == RequestState::pending);

  f.clock.set(kNow + hours{3});
  CHECK(f.dispatch_and_wait() == 0);
  CHECK(f.fake->seen().empty());
  CHECK(f.request(waiting).state == RequestState::pending);

  REQUIRE(f.manager.retry(incident, "alice").has_value());
  CHECK(f.dispatch_and_wait() == 1);
  CHECK(f.fake->seen() == std::vector<std::string>{waiting});
}

TEST_CASE("incident manager: manual requests for several windows are made together, due at once") {
  DispatchFixture f(3);
  // Attempt 1 of hour 1 failed: the incident's own next attempt waits.
  const IncidentEffects opened = f.first_attempt_fails();

  const std::vector<RequestRecord> made = value_of(
      f.manager.manual_requests(f.rule(), "reload", {window(0, 1), window(1, 2), window(2, 3)}));
  REQUIRE(made.size() == 3);
  CHECK(windows_of(made) == std::vector{window(0, 1), window(1, 2), window(2, 3)});
  CHECK(made[0].attempt == 1);
  CHECK(made[1].attempt == 3);  // hour 1 had attempts 1 and 2
  CHECK(made[2].attempt == 1);
  for (const RequestRecord& request : made) {
    CHECK(request.incident_id == opened.incident_id);
    CHECK(request.next_attempt_at == f.clock.now());
  }
  CHECK(f.dispatch_and_wait() == 3);
}

// Issue 14, item 7: a rule removed by a reload left its escalated incident
// on the page forever, without a word in the log.
TEST_CASE("incident manager: incidents of a rule removed from the configuration are resolved") {
  DispatchFixture f;
  // A manual request of the rule made while no incident was open.
  const RequestRecord manual =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(20), hour(21)));
  REQUIRE_FALSE(manual.incident_id.has_value());
  // Then events_hourly escalates, with hour 3's request waiting out a backoff.
  f.config.rules.front().backfill->max_attempts = 1;
  IncidentEffects effects = f.record("pfpf");
  REQUIRE(effects.new_requests.size() == 2);
  const std::int64_t incident = *effects.incident_id;
  const std::string waiting = effects.new_requests[1].id;
  RequestRecord held = f.request(waiting);
  held.next_attempt_at = kNow + hours{1};
  REQUIRE(f.store->update_request(held).has_value());
  f.deliver(effects.new_requests[0].id, RequestState::succeeded, seconds{1});
  f.clock.advance(seconds{30});
  REQUIRE(f.record("pfpf").escalated);
  // Another rule's incident, which stays.
  Incident other;
  other.rule = "orders_fresh";
  other.opened_at = kNow;
  other.updated_at = kNow;
  const std::int64_t kept = value_of(f.store->insert_incident(other));

  Config reloaded = make_config();
  reloaded.rules.front().spec.name = "orders_fresh";  // events_hourly is gone
  const std::vector<std::string> closed = value_of(f.manager.close_removed_rules(reloaded));

  CHECK(closed == std::vector<std::string>{
                      fmt::format("incident #{} for events_hourly resolved: rule removed from the "
                                  "configuration (it was escalated); its unsent requests are "
                                  "cancelled",
                                  incident),
                      fmt::format("request {} for events_hourly cancelled unsent: rule removed "
                                  "from the configuration",
                                  manual.id)});
  const Incident resolved = f.incident(incident);
  CHECK(resolved.state == IncidentState::resolved);
  CHECK(resolved.resolved_at == f.clock.now());
  CHECK(resolved.resolution == Resolution::rule_removed);
  const std::vector<EventRecord> events = value_of(f.store->events_for_incident(incident));
  CHECK(events.back().kind == "resolved");
  CHECK(events.back().detail == "rule removed from the configuration");
  CHECK(f.request(waiting).state == RequestState::cancelled);
  CHECK(f.request(manual.id).state == RequestState::cancelled);
  CHECK(f.incident(kept).state == IncidentState::open);

  // Nothing of the removed rule is sent afterwards, whenever it was due.
  f.clock.advance(hours{2});
  CHECK(f.dispatch_and_wait() == 0);
  CHECK(f.fake->seen() == std::vector<std::string>{});
  // Done once: a second pass finds nothing.
  CHECK(value_of(f.manager.close_removed_rules(reloaded)).empty());
}

// ---------------------------------------------------------------------------
// Segments

Window window_of(SegmentValue country, int from_hour, int to_hour) {
  return Window{hour(from_hour), hour(to_hour), Status::fail, SegmentKey{std::move(country)}};
}

TEST_CASE("incident manager: a segment's failing windows are requested for that segment only") {
  Fixture f;
  f.config.rules.front().spec.segment_by = {"country"};
  const IncidentEffects effects = f.record_result(
      segmented_result_of({{std::nullopt, "pppp"}, {"DE", "ppff"}, {"FR", "pfff"}}, kNow));
  REQUIRE(effects.opened);
  CHECK(f.active().windows == std::vector<Window>{window_of("DE", 2, 4), window_of("FR", 1, 4)});
  const std::vector<Window> expected{window_of("DE", 2, 4), window_of("FR", 1, 4)};
  CHECK(windows_of(effects.new_requests) == expected);
  const RequestRecord fr = effects.new_requests[1];
  CHECK(fr.id == make_request_id(kRule, {"FR"}, hour(1), hour(4), 1));
  CHECK(fr.id != make_request_id(kRule, {}, hour(1), hour(4), 1));
  CHECK(f.request(fr.id).window == window_of("FR", 1, 4));
  const auto values = nlohmann::json::parse(fr.values_json);
  CHECK(values.at("segment") == "FR");
  CHECK(values.at("segment.country") == "FR");
  CHECK(values.at("request_id") == fr.id);
  CHECK(contains(event_kinds(*f.store, *effects.incident_id), "request_created"));
  CHECK(f.last_event(*effects.incident_id, "request_created").detail.find("of segment FR") !=
        std::string::npos);
}

TEST_CASE("incident manager: a segment's request is verified by its own segment's buckets") {
  Fixture f;
  f.config.rules.front().spec.segment_by = {"country"};
  const IncidentEffects opened =
      f.record_result(segmented_result_of({{"DE", "pf"}, {"FR", "pf"}}, kNow));
  REQUIRE(opened.new_requests.size() == 2);
  const std::string de = opened.new_requests[0].id;
  const std::string fr = opened.new_requests[1].id;
  f.deliver(de, RequestState::succeeded, seconds{1});
  f.deliver(fr, RequestState::succeeded, seconds{1});
  f.clock.advance(minutes{1});
  // FR's data arrived; DE's did not: FR is verified although DE fails the
  // same hour, DE's attempt failed and attempt 2 is DE's alone.
  const IncidentEffects later =
      f.record_result(segmented_result_of({{"DE", "pf"}, {"FR", "pp"}}, f.clock.now()));
  CHECK(f.request(fr).state == RequestState::verified);
  CHECK(f.request(de).state == RequestState::failed);
  REQUIRE(later.new_requests.size() == 1);
  CHECK(later.new_requests[0].window == window_of("DE", 1, 2));
  CHECK(later.new_requests[0].attempt == 2);
  CHECK(later.new_requests[0].id == make_request_id(kRule, {"DE"}, hour(1), hour(2), 2));
}

TEST_CASE("incident manager: a manual request of a segmented rule is the whole table's") {
  Fixture f;
  f.config.rules.front().spec.segment_by = {"country"};
  const IncidentEffects opened =
      f.record_result(segmented_result_of({{"DE", "pf"}, {"FR", "pp"}}, kNow));
  REQUIRE(opened.new_requests.size() == 1);
  const RequestRecord manual =
      value_of(f.manager.manual_request(f.rule(), "reload", hour(1), hour(2)));
  CHECK(manual.window == window(1, 2));
  // Attempts continue over the segment's request of the same hour.
  CHECK(manual.attempt == 2);
  const auto values = nlohmann::json::parse(manual.values_json);
  CHECK(values.at("segment") == "");
  CHECK(values.at("segment.country") == "");
  // While it is outstanding, no segment's unit under it is requested again.
  f.clock.advance(minutes{1});
  const IncidentEffects later =
      f.record_result(segmented_result_of({{"DE", "pf"}, {"FR", "pf"}}, f.clock.now()));
  CHECK(later.new_requests.empty());
}

TEST_CASE("dispatcher: a segment's request reaches its executor with its columns") {
  DispatchFixture f;
  f.config.rules.front().spec.segment_by = {"country"};
  const IncidentEffects opened = f.record_result(segmented_result_of({{std::nullopt, "pf"}}, kNow));
  REQUIRE(opened.new_requests.size() == 1);
  std::vector<SegmentColumn> seen;
  f.fake->on_dispatch = [&](const BackfillRequest& request) { seen = request.segment; };
  SUBCASE("named by the rule's segment_by") {
    CHECK(f.dispatch_and_wait() == 1);
    CHECK(seen == std::vector{SegmentColumn{"country", std::nullopt}});
  }
  SUBCASE("refused when segment_by no longer names it") {
    f.config.rules.front().spec.segment_by = {"country", "channel"};
    CHECK(f.dispatch_and_wait() == 1);
    CHECK(f.fake->seen().empty());
    const RequestRecord refused = f.request(opened.new_requests[0].id);
    CHECK(refused.state == RequestState::failed);
    CHECK(refused.last_error.find("segment_by no longer names segment null") != std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// RunTracker: the runs an orchestrator started, followed to their end

struct RunFixture : DispatchFixture {
  RunFixture() {
    WebhookSpec webhook;
    webhook.poll_every = seconds{30};
    webhook.run_timeout = hours{6};
    config.executors.front().kind = webhook;
  }
  RunTracker& tracker() {
    if (!m_tracker) {
      m_tracker = std::make_unique<RunTracker>(config, *store, manager, clock, dispatcher(),
                                               [this](const RequestRecord& request) {
                                                 std::lock_guard lock(m_heard_mutex);
                                                 m_heard.push_back(request);
                                               });
    }
    return *m_tracker;
  }
  // Polls every run due now and waits for the polls to end.
  int poll_and_wait() {
    const int started = value_of(tracker().poll_due());
    tracker().drain();
    return started;
  }
  std::vector<RequestRecord> heard() {
    std::lock_guard lock(m_heard_mutex);
    return m_heard;
  }
  // A request of a failing rule, accepted by the orchestrator, which started run `run`.
  std::string accepted_with_run(const std::string& run) {
    const IncidentEffects opened = record("pf");
    REQUIRE(opened.new_requests.size() == 1);
    fake->script({DispatchOutcome::Kind::accepted, "HTTP 200", "{}", std::nullopt,
                  RunRef{run, "http://orchestrator/runs/" + run}});
    REQUIRE(dispatch_and_wait() == 1);
    return opened.new_requests[0].id;
  }

 private:
  std::mutex m_heard_mutex;
  std::vector<RequestRecord> m_heard;
  std::unique_ptr<RunTracker> m_tracker;  // after the dispatcher it polls through
};

TEST_CASE("run tracker: an accepted run is followed from poll_every after acceptance") {
  RunFixture f;
  const std::string id = f.accepted_with_run("run-7");
  const RequestRecord accepted = f.request(id);
  CHECK(accepted.state == RequestState::accepted);
  REQUIRE(accepted.run.has_value());
  CHECK(accepted.run->ref.id == "run-7");
  CHECK(accepted.run->next_poll_at == f.clock.now() + seconds{30});
  // verify_after (10m) counts from the first poll.
  CHECK(accepted.verify_by == f.clock.now() + seconds{30} + minutes{10});
  // Not due yet: nothing is asked.
  CHECK(f.poll_and_wait() == 0);
  CHECK(f.fake->polled().empty());

  f.fake->script_poll({RunPoll::Kind::state, RunState::running, "running", std::nullopt});
  f.clock.advance(seconds{30});
  CHECK(f.poll_and_wait() == 1);
  CHECK(f.fake->polled() == std::vector<std::string>{id + " run-7"});
  const RequestRecord running = f.request(id);
  CHECK(run_state_name(*running.run) == "running");
  CHECK(running.run->next_poll_at == f.clock.now() + seconds{30});
  CHECK(contains(event_kinds(*f.store, *running.incident_id), "run_running"));
  // The control thread hears of it, to verify at the moved verify_by.
  REQUIRE(f.heard().size() == 1);
  CHECK(f.heard()[0].verify_by == f.clock.now() + seconds{30} + minutes{10});
  // Asked once per due poll, however often the tracker is woken.
  CHECK(f.poll_and_wait() == 0);
  CHECK(f.fake->polled().size() == 1);
}

TEST_CASE("run tracker: a run that failed fails the attempt at once, with the reason") {
  RunFixture f;
  const std::string id = f.accepted_with_run("run-8");
  f.fake->script_poll({RunPoll::Kind::state, RunState::failed,
                       "failed: task load_orders failed", std::nullopt});
  f.clock.advance(seconds{30});
  CHECK(f.poll_and_wait() == 1);
  const RequestRecord failed = f.request(id);
  CHECK(failed.state == RequestState::failed);
  CHECK(failed.last_error == "the run failed: failed: task load_orders failed");
  CHECK(f.active().state == IncidentState::open);  // refreshed: nothing under way
  REQUIRE(f.heard().size() == 1);
  CHECK(f.heard()[0].state == RequestState::failed);
  // The next evaluation plans the next attempt.
  f.clock.advance(minutes{5});
  const IncidentEffects next = f.record("pf");
  REQUIRE(next.new_requests.size() == 1);
  CHECK(next.new_requests[0].attempt == 2);
}

TEST_CASE("run tracker: a restarted tracker follows the runs in flight, not sooner than due") {
  RunFixture f;
  const std::string id = f.accepted_with_run("run-9");
  f.fake->script_poll({RunPoll::Kind::unreachable, RunState::queued, "HTTP 503", std::nullopt});
  f.clock.advance(seconds{30});
  CHECK(f.poll_and_wait() == 1);
  CHECK(f.request(id).run->next_poll_at == f.clock.now() + seconds{60});
  {
    // Another process over the same database, as after a restart.
    auto reopened = open_store(f.directory.file("state.db"));
    CHECK(value_of(reopened->runs_to_poll("reload", f.clock.now())).empty());
    CHECK(value_of(reopened->next_run_poll()) == f.clock.now() + seconds{60});
    CHECK(value_of(reopened->runs_to_poll("reload", f.clock.now() + seconds{60})).size() == 1);
  }
}

TEST_CASE("run tracker: a request that moved on while its run was asked about is left alone") {
  RunFixture f;
  const std::string id = f.accepted_with_run("run-10");
  f.fake->script_poll({RunPoll::Kind::state, RunState::failed, "failed", std::nullopt});
  f.clock.advance(seconds{30});
  f.fake->poll_gate = &f.gate;
  REQUIRE(value_of(f.tracker().poll_due()) == 1);
  REQUIRE(f.gate.wait_for_waiting(1));
  // While the orchestrator is asked, the window passes: verified.
  RequestRecord verified = f.request(id);
  verified.state = RequestState::verified;
  REQUIRE(f.store->update_request(verified).has_value());
  f.gate.open();
  f.tracker().drain();
  // The answer that came back is dropped: a verified request is never failed.
  CHECK(f.request(id).state == RequestState::verified);
  CHECK_FALSE(contains(event_kinds(*f.store, *verified.incident_id), "run_failed"));
}

TEST_CASE("dispatcher: a rule's requests due at once go out newest first, or as its order says") {
  Config config = make_config();
  RuleConfig other = config.rules.front();
  other.spec.name = "other";
  config.rules.push_back(other);
  const auto request = [](std::string rule, int first_hour) {
    RequestRecord made;
    made.id = rule + std::to_string(first_hour);
    made.rule = std::move(rule);
    made.window = window(first_hour, first_hour + 1);
    return made;
  };
  const auto ids = [](const std::vector<RequestRecord>& requests) {
    std::vector<std::string> out;
    for (const RequestRecord& r : requests) {
      out.push_back(r.id);
    }
    return out;
  };
  // As the outbox lists them: oldest due first, the rules interleaved.
  const std::vector<RequestRecord> due{request(std::string(kRule), 1), request("other", 5),
                                       request(std::string(kRule), 2), request(std::string(kRule), 3),
                                       request("other", 6)};
  std::vector<RequestRecord> ordered = due;
  in_backfill_order(ordered, config);
  const std::string rule(kRule);
  CHECK(ids(ordered) == std::vector<std::string>{rule + "3", "other6", rule + "2", rule + "1", "other5"});

  config.rules.front().backfill->order = BackfillPolicy::Order::oldest_first;
  ordered = due;
  in_backfill_order(ordered, config);
  CHECK(ids(ordered) == std::vector<std::string>{rule + "1", "other6", rule + "2", rule + "3", "other5"});
}

TEST_CASE("dispatcher: max_per_hour holds deliveries beyond it until the hour has passed") {
  DispatchFixture f(4);
  f.config.executors.front().max_per_hour = 2;
  const IncidentEffects opened = f.record("pfpfpfp");
  REQUIRE(opened.new_requests.size() == 3);
  CHECK(f.dispatch_and_wait() == 2);
  CHECK(f.fake->seen().size() == 2);
  // Counted from the history, as another process (or a restart) would.
  CHECK(value_of(f.store->deliveries_since("reload", f.clock.now() - hours{1})).size() == 2);
  f.clock.advance(minutes{59});
  CHECK(f.dispatch_and_wait() == 0);
  f.clock.advance(minutes{1});
  CHECK(f.dispatch_and_wait() == 1);
  CHECK(f.fake->seen().size() == 3);
}

TEST_CASE("run tracker: a late answer does not undo a run's end recorded meanwhile") {
  RunFixture f;
  const std::string id = f.accepted_with_run("run-11");
  f.fake->script_poll({RunPoll::Kind::state, RunState::running, "running", std::nullopt});
  f.clock.advance(seconds{30});
  f.fake->poll_gate = &f.gate;
  REQUIRE(value_of(f.tracker().poll_due()) == 1);
  REQUIRE(f.gate.wait_for_waiting(1));
  // Another process sharing the state file recorded the run's success.
  RequestRecord settled = f.request(id);
  settled.run->known = RunRecord::Known::state;
  settled.run->state = RunState::succeeded;
  settled.run->detail = "success";
  settled.verify_by = f.clock.now() + seconds{1};
  REQUIRE(f.store->update_request(settled).has_value());
  f.gate.open();
  f.tracker().drain();
  const RequestRecord after = f.request(id);
  CHECK(run_state_name(*after.run) == "succeeded");
  CHECK(after.verify_by == f.clock.now() + seconds{1});
}

}  // namespace
}  // namespace gapwatch
