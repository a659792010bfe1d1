// The rules the golden-SQL tests of every dialect plan: one of each kind, as in
// the configuration reference, evaluated at a fixed instant. Each dialect's
// test pins the exact statement and parameters these give.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rules/freshness.h"
#include "rules/null_rate.h"
#include "rules/row_count.h"
#include "tests/rules/support.h"

namespace gapwatch::testing::golden {

// 2026-11-25T06:00:00Z.
inline const Instant kNow{std::chrono::seconds{1795586400}};

// Freshness of sales.orders over the last day, test rows filtered out.
inline RuleSpec orders_fresh() {
  RuleSpec spec;
  spec.name = "orders_fresh";
  spec.warehouse = "shop";
  spec.table = value_of(parse_qualified_name("sales.orders"));
  spec.check = CheckKind::freshness;
  spec.timestamp_column = "updated_at";
  spec.lookback = std::chrono::days{1};
  spec.where = "status <> 'test'";
  spec.thresholds.fail = Bound{std::nullopt, 7200};
  return spec;
}

// Rows per UTC hour of `table` by `timestamp_column`, judged from four hours
// back with the last hour left to settle: at kNow the judged buckets are
// 02:00, 03:00 and 04:00, counted in hour granules from 02:00 (1795572000).
// No threshold yet: each rule built on it sets its own.
inline RuleSpec hourly_row_count(std::string name, std::string warehouse, std::string_view table,
                                 std::string timestamp_column) {
  RuleSpec spec;
  spec.name = std::move(name);
  spec.warehouse = std::move(warehouse);
  spec.table = value_of(parse_qualified_name(table));
  spec.check = CheckKind::row_count;
  spec.timestamp_column = std::move(timestamp_column);
  PartitionSpec partition;
  partition.every = std::chrono::hours{1};
  partition.lookback = std::chrono::hours{4};
  partition.delay = std::chrono::hours{1};
  partition.zone = utc_zone();
  spec.partition = partition;
  return spec;
}

// Rows per UTC hour of raw.events (hourly_row_count), at least 100.
inline RuleSpec events_hourly() {
  RuleSpec spec = hourly_row_count("events_hourly", "shop", "raw.events", "event_time");
  spec.thresholds.fail = Bound{100, std::nullopt};
  return spec;
}

// NULL emails per Berlin day of crm.customers: at kNow the judged days are
// 2026-11-23 and 2026-11-24, from 2026-11-22T23:00:00Z to 2026-11-24T23:00:00Z.
inline RuleSpec customers_email() {
  RuleSpec spec;
  spec.name = "customers_email";
  spec.warehouse = "shop";
  spec.table = value_of(parse_qualified_name("crm.customers"));
  spec.check = CheckKind::null_rate;
  spec.column = "email";
  spec.timestamp_column = "created_at";
  PartitionSpec partition;
  partition.every = std::chrono::days{1};
  partition.lookback = std::chrono::days{3};
  partition.delay = std::chrono::seconds{0};
  partition.zone = zone("Europe/Berlin");
  spec.partition = partition;
  spec.thresholds.fail = Bound{std::nullopt, 0.02};
  spec.min_rows = 50;
  return spec;
}

inline PlanContext context(const Dialect& dialect, TimeEncoding encoding,
                           const TimeZone* warehouse_zone = utc_zone()) {
  PlanContext plan_context;
  plan_context.dialect = &dialect;
  plan_context.encoding = encoding;
  plan_context.warehouse_zone = warehouse_zone;
  plan_context.now = kNow;
  return plan_context;
}

inline Param text(std::string value) {
  return Param{std::move(value)};
}
inline Param integer(std::int64_t value) {
  return Param{value};
}

}  // namespace gapwatch::testing::golden
