#include "monitor/daemon/scheduler.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "monitor/config/cron.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::at;
using testing::value_of;
using testing::zone;

RuleConfig every(std::string name, seconds interval) {
  RuleConfig rule;
  rule.spec.name = std::move(name);
  rule.schedule.when = interval;
  rule.schedule.text = std::to_string(interval.count()) + "s";
  return rule;
}

RuleConfig on_cron(std::string name, std::string_view expression, std::string_view zone_name) {
  RuleConfig rule;
  rule.spec.name = std::move(name);
  rule.schedule.when = value_of(CronExpression::parse(expression));
  rule.schedule.zone = zone(zone_name);
  rule.schedule.text = std::string(expression);
  return rule;
}

// Runs every evaluation of rule 0 that comes due up to `until`, each finishing
// at once, and returns the instants at which they started.
std::vector<Instant> firings(Scheduler& scheduler, Instant until) {
  std::vector<Instant> started;
  while (true) {
    const std::optional<Instant> due = scheduler.next_due();
    REQUIRE(due.has_value());
    if (*due > until) {
      return started;
    }
    const std::vector<std::size_t> taken = scheduler.take_due(*due);
    REQUIRE(taken == std::vector<std::size_t>{0});
    started.push_back(*due);
    scheduler.finished(0, *due);
  }
}

// Built without parsing: doctest's REQUIRE cannot run during static
// initialisation.
const Instant kStart = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + hours{10};

TEST_CASE("scheduler: first_due is stable and lies within the first interval") {
  for (const seconds interval : {seconds{1}, seconds{60}, seconds{300}, seconds{86400}}) {
    for (const std::string name : {"orders", "events_hourly", "a", ""}) {
      const RuleConfig rule = every(name, interval);
      const Instant first = Scheduler::first_due(rule, kStart);
      CAPTURE(name);
      CAPTURE(interval.count());
      CHECK(first >= kStart);
      CHECK(first < kStart + interval);
      CHECK(Scheduler::first_due(rule, kStart) == first);
    }
  }
}

TEST_CASE("scheduler: a restart keeps an interval rule's phase") {
  const RuleConfig rule = every("orders", minutes{5});
  const Instant first = Scheduler::first_due(rule, kStart);
  for (const seconds later :
       {seconds{1}, seconds{17}, seconds{299}, seconds{300}, seconds{3601}, seconds{86400 + 7}}) {
    CAPTURE(later.count());
    const Instant restarted = kStart + later;
    const Instant again = Scheduler::first_due(rule, restarted);
    CHECK(again >= restarted);
    CHECK(again < restarted + minutes{5});
    CHECK((again - first) % minutes{5} == seconds{0});
  }
}

TEST_CASE("scheduler: an interval rule runs at a fixed rate from its first run") {
  const std::vector<RuleConfig> rules{every("orders", minutes{5})};
  Scheduler scheduler(rules, kStart);
  const Instant first = Scheduler::first_due(rules[0], kStart);
  CHECK(scheduler.due_at(0) == first);
  CHECK(scheduler.next_due() == first);

  SUBCASE("nothing is due before the first run") {
    if (first > kStart) {
      CHECK(scheduler.take_due(first - seconds{1}).empty());
    }
    CHECK(scheduler.take_due(first) == std::vector<std::size_t>{0});
    CHECK(scheduler.running(0));
  }
  SUBCASE("a slow evaluation does not shift the grid") {
    CHECK(scheduler.take_due(first) == std::vector<std::size_t>{0});
    scheduler.finished(0, first + minutes{4});
    CHECK(scheduler.due_at(0) == first + minutes{5});
    CHECK(scheduler.take_due(first + minutes{5}) == std::vector<std::size_t>{0});
    scheduler.finished(0, first + minutes{5} + seconds{10});
    CHECK(scheduler.due_at(0) == first + minutes{10});
  }
  SUBCASE("a late take_due runs once and keeps the phase") {
    CHECK(scheduler.take_due(first + minutes{12}) == std::vector<std::size_t>{0});
    scheduler.finished(0, first + minutes{12});
    CHECK(scheduler.due_at(0) == first + minutes{15});
    CHECK(scheduler.skipped(0) == 0);
  }
  SUBCASE("an hour of evaluations") {
    const std::vector<Instant> started = firings(scheduler, first + minutes{59});
    REQUIRE(started.size() == 12);
    for (std::size_t i = 0; i < started.size(); ++i) {
      CHECK(started[i] == first + minutes{5} * static_cast<int>(i));
    }
    CHECK(scheduler.skipped(0) == 0);
  }
}

TEST_CASE(
    "scheduler: a rule due while still running is skipped, counted and runs at its next slot") {
  const std::vector<RuleConfig> rules{every("orders", seconds{60})};
  Scheduler scheduler(rules, kStart);
  const Instant first = Scheduler::first_due(rules[0], kStart);
  REQUIRE(scheduler.take_due(first) == std::vector<std::size_t>{0});

  // Still running at its next slot: skipped, never run twice at once.
  CHECK(scheduler.take_due(first + seconds{60}).empty());
  CHECK(scheduler.skipped(0) == 1);
  CHECK(scheduler.running(0));
  CHECK(scheduler.due_at(0) == first + seconds{120});

  // Finishing late does not start a catch-up run.
  scheduler.finished(0, first + seconds{90});
  CHECK(scheduler.take_due(first + seconds{90}).empty());
  CHECK(scheduler.next_due() == first + seconds{120});
  CHECK(scheduler.take_due(first + seconds{120}) == std::vector<std::size_t>{0});
  CHECK(scheduler.skipped(0) == 1);
}

TEST_CASE("scheduler: request adds an evaluation besides the schedule") {
  const std::vector<RuleConfig> rules{every("orders", hours{1})};
  Scheduler scheduler(rules, kStart);
  const Instant first = Scheduler::first_due(rules[0], kStart);
  REQUIRE(scheduler.take_due(first) == std::vector<std::size_t>{0});
  scheduler.finished(0, first);
  REQUIRE(scheduler.due_at(0) == first + hours{1});

  SUBCASE("earlier than the schedule") {
    scheduler.request(0, first + minutes{10});
    CHECK(scheduler.due_at(0) == first + minutes{10});
    CHECK(scheduler.next_due() == first + minutes{10});
    CHECK(scheduler.take_due(first + minutes{10} - seconds{1}).empty());
    CHECK(scheduler.take_due(first + minutes{10}) == std::vector<std::size_t>{0});
    scheduler.finished(0, first + minutes{10});
    // The schedule goes on as before; the extra run was used up.
    CHECK(scheduler.due_at(0) == first + hours{1});
    CHECK(scheduler.take_due(first + minutes{30}).empty());
  }
  SUBCASE("the earliest of several requests wins") {
    scheduler.request(0, first + minutes{20});
    scheduler.request(0, first + minutes{10});
    scheduler.request(0, first + minutes{30});
    CHECK(scheduler.due_at(0) == first + minutes{10});
  }
  SUBCASE("while running it waits, is not counted as skipped, and runs when finished") {
    REQUIRE(scheduler.take_due(first + hours{1}) == std::vector<std::size_t>{0});
    scheduler.request(0, first + hours{1} + seconds{5});
    CHECK(scheduler.take_due(first + hours{1} + seconds{5}).empty());
    CHECK(scheduler.take_due(first + hours{1} + seconds{6}).empty());
    CHECK(scheduler.skipped(0) == 0);
    scheduler.finished(0, first + hours{1} + seconds{7});
    CHECK(scheduler.next_due() == first + hours{1} + seconds{5});
    CHECK(scheduler.take_due(first + hours{1} + seconds{7}) == std::vector<std::size_t>{0});
    scheduler.finished(0, first + hours{1} + seconds{8});
    CHECK(scheduler.due_at(0) == first + hours{2});
  }
  SUBCASE("a scheduled run before the requested instant does not use the request up") {
    // Verification asks for an evaluation at verify_by; a scheduled one that
    // comes earlier cannot stand in for it.
    scheduler.request(0, first + hours{1} + minutes{10});
    REQUIRE(scheduler.take_due(first + hours{1}) == std::vector<std::size_t>{0});
    scheduler.finished(0, first + hours{1});
    CHECK(scheduler.due_at(0) == first + hours{1} + minutes{10});
    CHECK(scheduler.take_due(first + hours{1} + minutes{10}) == std::vector<std::size_t>{0});
    scheduler.finished(0, first + hours{1} + minutes{10});
    CHECK(scheduler.due_at(0) == first + hours{2});
  }
}

TEST_CASE("scheduler: cron rules fire at their matches") {
  SUBCASE("hourly in UTC") {
    const std::vector<RuleConfig> rules{on_cron("hourly", "0 * * * *", "UTC")};
    Scheduler scheduler(rules, at("2026-03-02T10:20:00Z"));
    CHECK(scheduler.due_at(0) == at("2026-03-02T11:00:00Z"));
    CHECK(firings(scheduler, at("2026-03-02T13:30:00Z")) ==
          std::vector<Instant>{at("2026-03-02T11:00:00Z"), at("2026-03-02T12:00:00Z"),
                               at("2026-03-02T13:00:00Z")});
  }
  SUBCASE("a start on a match fires at once") {
    const std::vector<RuleConfig> rules{on_cron("hourly", "0 * * * *", "UTC")};
    Scheduler scheduler(rules, at("2026-03-02T10:00:00Z"));
    CHECK(scheduler.due_at(0) == at("2026-03-02T10:00:00Z"));
  }
  SUBCASE("hourly in Europe/Berlin keeps an hourly pace through the fall-back") {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; the hour
    // 02:00-03:00 happens twice, and an hourly rule fires in both.
    const std::vector<RuleConfig> rules{on_cron("hourly", "0 * * * *", "Europe/Berlin")};
    Scheduler scheduler(rules, at("2026-10-24T22:30:00Z"));
    CHECK(firings(scheduler, at("2026-10-25T03:00:00Z")) ==
          std::vector<Instant>{at("2026-10-24T23:00:00Z"), at("2026-10-25T00:00:00Z"),
                               at("2026-10-25T01:00:00Z"), at("2026-10-25T02:00:00Z"),
                               at("2026-10-25T03:00:00Z")});
  }
  SUBCASE("a fixed time in Europe/Berlin fires once in the repeated hour") {
    const std::vector<RuleConfig> rules{on_cron("nightly", "30 2 * * *", "Europe/Berlin")};
    Scheduler scheduler(rules, at("2026-10-24T12:00:00Z"));
    CHECK(firings(scheduler, at("2026-10-26T12:00:00Z")) ==
          std::vector<Instant>{at("2026-10-25T00:30:00Z"),    // 02:30 CEST
                               at("2026-10-26T01:30:00Z")});  // 02:30 CET
  }
  SUBCASE("the zone decides the instant") {
    const std::vector<RuleConfig> rules{on_cron("nightly", "0 6 * * *", "Europe/Berlin"),
                                        on_cron("nightly_utc", "0 6 * * *", "UTC")};
    Scheduler scheduler(rules, at("2026-07-01T00:00:00Z"));
    CHECK(scheduler.due_at(0) == at("2026-07-01T04:00:00Z"));
    CHECK(scheduler.due_at(1) == at("2026-07-01T06:00:00Z"));
  }
  SUBCASE("a cron rule still running at its match is skipped") {
    const std::vector<RuleConfig> rules{on_cron("hourly", "0 * * * *", "UTC")};
    Scheduler scheduler(rules, at("2026-03-02T10:20:00Z"));
    REQUIRE(scheduler.take_due(at("2026-03-02T11:00:00Z")) == std::vector<std::size_t>{0});
    CHECK(scheduler.take_due(at("2026-03-02T12:00:00Z")).empty());
    CHECK(scheduler.skipped(0) == 1);
    CHECK(scheduler.due_at(0) == at("2026-03-02T13:00:00Z"));
  }
}

TEST_CASE("scheduler: next_due ignores running rules") {
  const std::vector<RuleConfig> rules{on_cron("early", "0 * * * *", "UTC"),
                                      on_cron("late", "30 * * * *", "UTC")};
  Scheduler scheduler(rules, at("2026-03-02T10:20:00Z"));
  CHECK(scheduler.next_due() == at("2026-03-02T10:30:00Z"));
  REQUIRE(scheduler.take_due(at("2026-03-02T10:30:00Z")) == std::vector<std::size_t>{1});
  CHECK(scheduler.next_due() == at("2026-03-02T11:00:00Z"));
  REQUIRE(scheduler.take_due(at("2026-03-02T11:00:00Z")) == std::vector<std::size_t>{0});

  SUBCASE("with every rule running nothing is due") {
    CHECK_FALSE(scheduler.next_due().has_value());
  }
  SUBCASE("an extra request for a running rule is not due before it finishes") {
    scheduler.request(0, at("2026-03-02T11:00:05Z"));
    CHECK_FALSE(scheduler.next_due().has_value());
    scheduler.finished(0, at("2026-03-02T11:00:10Z"));
    CHECK(scheduler.next_due() == at("2026-03-02T11:00:05Z"));
  }
  SUBCASE("a finished rule counts again") {
    scheduler.finished(1, at("2026-03-02T11:00:00Z"));
    CHECK(scheduler.next_due() == at("2026-03-02T11:30:00Z"));
  }
}

TEST_CASE("scheduler: many rules on one schedule spread their first runs") {
  std::vector<RuleConfig> rules;
  for (int i = 0; i < 1000; ++i) {
    rules.push_back(every("rule_" + std::to_string(i), seconds{60}));
  }
  Scheduler scheduler(rules, kStart);
  std::map<Instant, int> per_second;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    per_second[scheduler.due_at(i)] += 1;
  }
  // Every second of the minute is used and none takes more than 3% (the
  // average is 1/60, about 1.7%).
  CHECK(per_second.size() == 60);
  int busiest = 0;
  for (const auto& [second, count] : per_second) {
    busiest = std::max(busiest, count);
  }
  CHECK(busiest <= 30);
  // take_due hands out only the rules of that second.
  CHECK(scheduler.take_due(kStart).size() == static_cast<std::size_t>(per_second[kStart]));
}

}  // namespace
}  // namespace gapwatch
