// Segment and reconciliation scenarios shared by the SQLite, PostgreSQL and
// MariaDB integration tests: a country that goes dark while the total looks
// normal, the `null` segment, max_segments, and a target reconciled with a
// source system across encodings, zones and the autumn clock change.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "scenarios.h"

namespace gapwatch::testing {

namespace {

Instant at(const std::string& text) { return *parse_rfc3339(text); }

const TimeZone* berlin() { return *find_time_zone("Europe/Berlin"); }

// One row to insert: its instant and its country (empty: NULL).
struct OrderRow {
  Instant created;
  std::string country;
};

// `per_hour` rows of `country` in every hour of [first, last), spread evenly.
void add_hours(std::vector<OrderRow>& rows, const std::string& country, int per_hour,
               Instant first, Instant last) {
  for (Instant hour = first; hour < last; hour += std::chrono::hours{1}) {
    for (int i = 0; i < per_hour; ++i) {
      rows.push_back(OrderRow{hour + std::chrono::seconds{i * 3600 / per_hour}, country});
    }
  }
}

void remove_rows(std::vector<OrderRow>& rows, const std::string& country, Instant first,
                 Instant last, std::size_t at_most) {
  std::size_t removed = 0;
  std::erase_if(rows, [&](const OrderRow& row) {
    if (removed < at_most && row.country == country && row.created >= first &&
        row.created < last) {
      ++removed;
      return true;
    }
    return false;
  });
}

// orders(created_at, country) holding `rows`: created_at zone-aware, or
// (`wall_clock`) zone-less on Berlin's wall clock, as a source system that
// stores local time would.
enum class Stored { instants, berlin_wall_clock };

void create_orders(TestWarehouse& warehouse, const std::vector<OrderRow>& rows, Stored stored) {
  const std::string type =
      stored == Stored::instants ? warehouse.instant_type() : warehouse.wall_clock_type();
  warehouse.exec(fmt::format("CREATE TABLE orders (created_at {}, country {});", type,
                             warehouse.text_type()));
  for (std::size_t i = 0; i < rows.size(); i += 500) {
    std::vector<std::string> values;
    for (std::size_t j = i; j < std::min(rows.size(), i + 500); ++j) {
      const std::string created =
          stored == Stored::instants
              ? warehouse.instant_literal(format_wall_clock(rows[j].created, utc_zone()))
              : fmt::format("'{}'", format_wall_clock(rows[j].created, berlin()));
      values.push_back(fmt::format(
          "({}, {})", created,
          rows[j].country.empty() ? std::string("NULL") : fmt::format("'{}'", rows[j].country)));
    }
    warehouse.exec(fmt::format("INSERT INTO orders (created_at, country) VALUES {};",
                               fmt::join(values, ", ")));
  }
}

constexpr const char* kSegmentNow = "2026-11-25T06:00:00Z";

const std::string kSegmentRules =
    "  - name: orders_by_country\n"
    "    table: orders\n"
    "    check: row_count\n"
    "    timestamp_column: created_at\n"
    "    segment_by: [country]\n"
    "    partition: {every: 1h, lookback: 2d, delay: 1h}\n"
    "    fail: {min: 1}\n"
    "  - name: orders_total\n"
    "    table: orders\n"
    "    check: row_count\n"
    "    timestamp_column: created_at\n"
    "    partition: {every: 1h, lookback: 2d, delay: 1h}\n"
    "    fail: {min: 1}\n"
    "  - name: orders_two_countries_at_most\n"
    "    table: orders\n"
    "    check: row_count\n"
    "    timestamp_column: created_at\n"
    "    segment_by: [country]\n"
    "    max_segments: 2\n"
    "    partition: {every: 1h, lookback: 2d, delay: 1h}\n"
    "    fail: {min: 1}\n";

std::string window_segment(const Window& window) { return segment_name(window.segment); }

}  // namespace

void scenario_segments_dark_country(TestWarehouse& warehouse) {
  // DE 20 orders an hour, FR 3, and 1 an hour without a country, for the two
  // days before now; FR sends nothing for the last 20 judged hours.
  const Instant now = at(kSegmentNow);
  const Instant first = now - std::chrono::hours{49};
  const Instant dark = now - std::chrono::hours{21};
  std::vector<OrderRow> rows;
  add_hours(rows, "DE", 20, first, now);
  add_hours(rows, "FR", 3, first, dark);
  add_hours(rows, "", 1, first, now);
  create_orders(warehouse, rows, Stored::instants);
  const Config config = load_test_config(config_yaml(warehouse.connection(), kSegmentRules));

  // The total never notices.
  const RuleResult total = evaluate_rule(config, "orders_total", kSegmentNow);
  CHECK(total.verdict.status == Status::pass);

  const RuleResult result = evaluate_rule(config, "orders_by_country", kSegmentNow);
  const Verdict& verdict = result.verdict;
  INFO(verdict.message);
  REQUIRE(verdict.status == Status::fail);
  REQUIRE(verdict.segments.size() == 3);
  CHECK(verdict.segments[0].key == SegmentKey{std::nullopt});  // NULL first, named null
  CHECK(verdict.segments[1].key == SegmentKey{"DE"});
  CHECK(verdict.segments[2].key == SegmentKey{"FR"});
  CHECK(verdict.segments[0].status == Status::pass);
  CHECK(verdict.segments[1].status == Status::pass);
  CHECK(verdict.segments[2].status == Status::fail);
  CHECK(verdict.buckets.size() == 3 * 47);
  CHECK(verdict.message == "FR: 20 of 47 hourly buckets below 1 rows (1 failing of 3 segments)");
  REQUIRE(verdict.windows.size() == 1);
  CHECK(window_segment(verdict.windows[0]) == "FR");
  CHECK(verdict.windows[0].start == dark);
  CHECK(verdict.windows[0].end == now - std::chrono::hours{1});

  // Three segments where at most two are allowed: an error, never a cut.
  const RuleResult bounded = evaluate_rule(config, "orders_two_countries_at_most", kSegmentNow);
  CHECK(bounded.verdict.status == Status::error);
  CHECK(bounded.verdict.message.starts_with("more than max_segments (2) distinct segments"));
}

void scenario_reconcile(TestWarehouse& source, TestWarehouse& target) {
  // The 12 hours before 06:00Z on 2026-10-25, across Berlin's change from
  // CEST to CET at 01:00Z: the source stores Berlin wall-clock time, which
  // reads 02:00-03:00 twice, the target instants.
  const Instant now = at("2026-10-25T06:00:00Z");
  const Instant first = now - std::chrono::hours{12};
  std::vector<OrderRow> rows;
  add_hours(rows, "DE", 20, first, now);
  add_hours(rows, "FR", 4, first, now);
  create_orders(source, rows, Stored::berlin_wall_clock);
  std::vector<OrderRow> loaded = rows;
  // Lost on the way: 3 of DE's 20 rows at 22:00Z, FR at 03:00-05:00Z.
  remove_rows(loaded, "DE", at("2026-10-24T22:00:00Z"), at("2026-10-24T23:00:00Z"), 3);
  remove_rows(loaded, "FR", at("2026-10-25T03:00:00Z"), at("2026-10-25T05:00:00Z"), 100);
  // Loaded twice: DE at 05:00Z.
  std::vector<OrderRow> twice;
  add_hours(twice, "DE", 20, at("2026-10-25T05:00:00Z"), now);
  loaded.insert(loaded.end(), twice.begin(), twice.end());
  create_orders(target, loaded, Stored::instants);

  const std::string yaml = fmt::format(
      "version: 1\n"
      "warehouses:\n"
      "  - name: erp\n"
      "    connection: \"{}\"\n"
      "    timezone: Europe/Berlin\n"
      "  - name: erp_down\n"
      "    connection: \"Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=1;Database=x;"
      "UID=x;PWD=x\"\n"
      "  - name: dwh\n"
      "    connection: \"{}\"\n"
      "rules:\n"
      "  - name: orders_loaded\n"
      "    warehouse: dwh\n"
      "    table: orders\n"
      "    check: row_count\n"
      "    timestamp_column: created_at\n"
      "    segment_by: [country]\n"
      "    partition: {{every: 1h, lookback: 12h, delay: 0s, timezone: Europe/Berlin}}\n"
      "    source: {{warehouse: erp, table: orders, timestamp_column: created_at}}\n"
      "    fail: {{missing: 0}}\n"
      "    warn: {{extra: 0}}\n"
      "  - name: orders_source_down\n"
      "    warehouse: dwh\n"
      "    table: orders\n"
      "    check: row_count\n"
      "    timestamp_column: created_at\n"
      "    partition: {{every: 1h, lookback: 12h, delay: 0s}}\n"
      "    source: {{warehouse: erp_down, table: orders, timestamp_column: created_at}}\n"
      "    fail: {{missing: 0}}\n",
      source.connection(), target.connection());
  const Config config = load_test_config(yaml);
  const RuleResult result = evaluate_rule(config, "orders_loaded", "2026-10-25T06:00:00Z");
  const Verdict& verdict = result.verdict;
  INFO(verdict.message);
  REQUIRE(verdict.status == Status::fail);
  REQUIRE(verdict.windows.size() == 3);
  // DE: the 3 rows lost at 22:00Z, then the duplicated 05:00Z (a warning);
  // nothing in the repeated hour 00:00-02:00Z, where the source's wall clock
  // cannot tell its two occurrences apart.
  CHECK(window_segment(verdict.windows[0]) == "DE");
  CHECK(verdict.windows[0].start == at("2026-10-24T22:00:00Z"));
  CHECK(verdict.windows[0].end == at("2026-10-24T23:00:00Z"));
  CHECK(verdict.windows[0].status == Status::fail);
  CHECK(window_segment(verdict.windows[1]) == "DE");
  CHECK(verdict.windows[1].start == at("2026-10-25T05:00:00Z"));
  CHECK(verdict.windows[1].status == Status::warn);
  CHECK(window_segment(verdict.windows[2]) == "FR");
  CHECK(verdict.windows[2].start == at("2026-10-25T03:00:00Z"));
  CHECK(verdict.windows[2].end == at("2026-10-25T05:00:00Z"));
  CHECK(verdict.windows[2].status == Status::fail);
  const auto lost = std::find_if(verdict.buckets.begin(), verdict.buckets.end(),
                                 [&](const BucketVerdict& bucket) {
                                   return bucket.start == at("2026-10-24T22:00:00Z") &&
                                          verdict.segments[bucket.segment].key == SegmentKey{"DE"};
                                 });
  REQUIRE(lost != verdict.buckets.end());
  CHECK(lost->rows == 17);
  CHECK(lost->source_rows == 20);
  CHECK(verdict.message.find("FR: 2 of 12 hourly buckets more than 0 rows missing") !=
        std::string::npos);

  // A source that cannot be reached: error, never fail.
  const RuleResult down = evaluate_rule(config, "orders_source_down", "2026-10-25T06:00:00Z");
  CHECK(down.verdict.status == Status::error);
  CHECK(down.verdict.message.starts_with("source erp_down:"));
  CHECK(down.verdict.windows.empty());
}

}  // namespace gapwatch::testing
