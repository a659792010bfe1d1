#include "triggers/backfill_request.h"

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using testing::at;
using testing::zone;

// Functions, not constants: at() asserts, and doctest cannot assert before main.
Instant window_start() {
  return at("2025-11-25T00:00:00Z");
}
Instant window_end() {
  return at("2025-11-25T01:00:00Z");
}

bool is_lower_hex(const std::string& text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

RuleSpec berlin_daily_rule() {
  RuleSpec spec;
  spec.name = "orders_daily";
  spec.warehouse = "analytics";
  spec.table = QualifiedName{{"sales", "orders"}};
  spec.check = CheckKind::row_count;
  spec.severity = Severity::critical;
  PartitionSpec partition;
  partition.every = hours{24};
  partition.zone = zone("Europe/Berlin");
  spec.partition = partition;
  return spec;
}

BackfillRequest request_for(const RuleSpec& spec, Instant start, Instant end) {
  BackfillRequest request;
  request.rule = spec.name;
  request.executor = "reload";
  request.window_start = start;
  request.window_end = end;
  request.attempt = 2;
  request.incident_id = 41;
  request.id = make_request_id(spec.name, SegmentKey{}, start, end, request.attempt);
  return request;
}

TEST_CASE("a request id is 32 lower-case hex digits") {
  const std::string id =
      make_request_id("events_hourly", SegmentKey{}, window_start(), window_end(), 1);
  CHECK(id.size() == 32);
  CHECK(is_lower_hex(id));
}

TEST_CASE("a request id is the same for the same rule, window and attempt") {
  CHECK(make_request_id("events_hourly", SegmentKey{}, window_start(), window_end(), 1) ==
        make_request_id("events_hourly", SegmentKey{}, window_start(), window_end(), 1));
}

TEST_CASE("request ids do not change between releases") {
  // Requests resumed or re-planned after an upgrade must keep their ids:
  // the first 16 bytes of SHA-256("events_hourly\n1764028800\n1764032400\n<attempt>").
  CHECK(make_request_id("events_hourly", SegmentKey{}, window_start(), window_end(), 1) ==
        "9845651faf73e5430a42a765602a6c4e");
  CHECK(make_request_id("events_hourly", SegmentKey{}, window_start(), window_end(), 2) ==
        "2fb505d3390dce18b3c94faf6dbfa714");
}

TEST_CASE("request ids differ by rule, window start, window end and attempt") {
  const std::set<std::string> ids{
      make_request_id("events_hourly", SegmentKey{}, window_start(), window_end(), 1),
      make_request_id("events_daily", SegmentKey{}, window_start(), window_end(), 1),
      make_request_id("events_hourly", SegmentKey{}, window_start() - hours{1}, window_end(), 1),
      make_request_id("events_hourly", SegmentKey{}, window_start(), window_end() + hours{1}, 1),
      make_request_id("events_hourly", SegmentKey{}, window_start(), window_end(), 2),
      make_request_id("events_hourly", SegmentKey{}, window_end(), window_end() + hours{1}, 1),
  };
  CHECK(ids.size() == 6);
}

TEST_CASE("request ids do not collide when text moves between rule and window") {
  // "a" + start 11 versus "a1" + start 1: the fields are separated.
  const Instant eleven{std::chrono::seconds{11}};
  const Instant one{std::chrono::seconds{1}};
  CHECK(make_request_id("a", SegmentKey{}, eleven, window_end(), 1) !=
        make_request_id("a1", SegmentKey{}, one, window_end(), 1));
}

TEST_CASE("request_values of a partitioned rule give dates in the partition zone") {
  const RuleSpec spec = berlin_daily_rule();
  // The Berlin day 2026-03-29 (23 hours: clocks go forward at 02:00).
  const Instant start = at("2026-03-28T23:00:00Z");
  const Instant end = at("2026-03-29T22:00:00Z");
  const BackfillRequest request = request_for(spec, start, end);
  const TemplateValues values = request_values(spec, {{"dag_id", "orders_ingest"}}, request);

  CHECK(values.at("rule") == "orders_daily");
  CHECK(values.at("warehouse") == "analytics");
  CHECK(values.at("table") == "sales.orders");
  CHECK(values.at("check") == "row_count");
  CHECK(values.at("severity") == "critical");
  CHECK(values.at("window_start") == "2026-03-28T23:00:00Z");
  CHECK(values.at("window_end") == "2026-03-29T22:00:00Z");
  CHECK(values.at("window_start_date") == "2026-03-29");
  CHECK(values.at("window_end_date") == "2026-03-30");
  CHECK(values.at("window_start_epoch") == std::to_string(start.time_since_epoch().count()));
  CHECK(values.at("window_start_epoch") == "1774738800");
  CHECK(values.at("window_end_epoch") == "1774821600");
  CHECK(values.at("request_id") == request.id);
  CHECK(values.at("incident_id") == "41");
  CHECK(values.at("attempt") == "2");
  CHECK(values.at("dag_id") == "orders_ingest");
}

TEST_CASE("request_values define every built-in variable and every params key") {
  const RuleSpec spec = berlin_daily_rule();
  const BackfillRequest request =
      request_for(spec, at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
  const TemplateValues values =
      request_values(spec, {{"dag_id", "orders_ingest"}, {"pool", "backfills"}}, request);
  std::set<std::string> expected = request_variables();
  expected.insert("dag_id");
  expected.insert("pool");
  std::set<std::string> names;
  for (const auto& [name, value] : values) {
    names.insert(name);
  }
  CHECK(names == expected);
  CHECK(values.at("pool") == "backfills");
}

TEST_CASE("request_values of a rule without partition give dates in UTC") {
  RuleSpec spec = berlin_daily_rule();
  spec.partition.reset();
  spec.check = CheckKind::freshness;
  const BackfillRequest request =
      request_for(spec, at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
  const TemplateValues values = request_values(spec, {}, request);
  CHECK(values.at("window_start_date") == "2026-03-28");
  CHECK(values.at("window_end_date") == "2026-03-29");
  CHECK(values.at("check") == "freshness");
  CHECK(values.size() == request_variables().size());
}

TEST_CASE("request_values pass param values through as data") {
  const RuleSpec spec = berlin_daily_rule();
  const BackfillRequest request =
      request_for(spec, at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
  const std::string hostile = "\"quoted\" \\ $(touch pwned)\n{rule}";
  const TemplateValues values = request_values(spec, {{"note", hostile}}, request);
  CHECK(values.at("note") == hostile);
}

TEST_CASE("a segment's request id differs from the whole table's and from other segments'") {
  const auto id = [](const SegmentKey& segment) {
    return make_request_id("orders_by_country", segment, window_start(), window_end(), 1);
  };
  const std::set<std::string> ids{
      id({}),          id({"FR"}),     id({"DE"}),   id({std::nullopt}),      id({"null"}),
      id({""}),        id({"a", "b"}), id({"a, b"}), id({"a", std::nullopt}), id({"a", "null"}),
      id({"a\ns1:b"}),
  };
  CHECK(ids.size() == 11);
  CHECK(id({"FR"}) == id({"FR"}));
}

TEST_CASE("a segment's request id does not change between releases") {
  // The first 16 bytes of SHA-256 of "orders_by_country\n1764028800\n1764032400\n1" followed
  // by "\nsegment 2\ns2:FR\nn" (two values: "FR", NULL).
  CHECK(make_request_id("orders_by_country", {"FR", std::nullopt}, window_start(), window_end(),
                        1) == "0c52eb025a2db5c0216df68e94836ccd");
}

RuleSpec by_country_rule() {
  RuleSpec spec = berlin_daily_rule();
  spec.name = "orders_by_country";
  spec.segment_by = {"country", "channel"};
  return spec;
}

TEST_CASE("request_values of a segment name it and give each column's value, NULL as null") {
  const RuleSpec spec = by_country_rule();
  BackfillRequest request =
      request_for(spec, at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
  request.segment = segment_columns(spec.segment_by, {"FR", std::nullopt});
  const TemplateValues values = request_values(spec, {{"dag_id", "orders_ingest"}}, request);
  CHECK(values.at("segment") == "FR, null");
  CHECK(values.at("segment.country") == "FR");
  CHECK(values.at("segment.channel") == "null");
  CHECK(values.at("dag_id") == "orders_ingest");
  CHECK(values.size() == request_variables().size() + 4);
}

TEST_CASE("request_values of a whole-table request of a segmented rule are empty segment values") {
  const RuleSpec spec = by_country_rule();
  const BackfillRequest request =
      request_for(spec, at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
  const TemplateValues values = request_values(spec, {}, request);
  CHECK(values.at("segment").empty());
  CHECK(values.at("segment.country").empty());
  CHECK(values.at("segment.channel").empty());
}

TEST_CASE("request_values pass segment values through as data") {
  const RuleSpec spec = by_country_rule();
  BackfillRequest request =
      request_for(spec, at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
  const std::string hostile = "'; DROP TABLE orders; -- {rule} $(id)";
  request.segment = segment_columns(spec.segment_by, {hostile, "web"});
  const TemplateValues values = request_values(spec, {}, request);
  CHECK(values.at("segment.country") == hostile);
  CHECK(values.at("segment") == hostile + ", web");
}

TEST_CASE("segment_columns names a segment's values by the rule's columns") {
  CHECK(segment_columns({"country"}, {"FR"}) == std::vector{SegmentColumn{"country", "FR"}});
  CHECK(segment_columns({"country"}, {}).empty());
  // segment_by changed since the request was made: nothing named wrongly.
  CHECK(segment_columns({"country", "channel"}, {"FR"}).empty());
}

TEST_CASE("segment_json is an object of the columns, null for NULL, or null for the table") {
  CHECK(segment_json({}).is_null());
  CHECK(segment_json(segment_columns({"country", "channel"}, {"FR", std::nullopt})) ==
        nlohmann::json::parse(R"({"country": "FR", "channel": null})"));
  CHECK(segment_json(segment_columns({"country"}, {"null"})) ==
        nlohmann::json::parse(R"({"country": "null"})"));
}

}  // namespace
}  // namespace gapwatch
