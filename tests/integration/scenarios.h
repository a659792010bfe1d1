// Warehouse scenarios shared by the SQLite, PostgreSQL and MariaDB integration tests:
// the same data and rules must give the same verdicts on every dialect.
#pragma once

#include "support.h"

namespace gapwatch::testing {

void scenario_hourly_gaps(TestWarehouse& warehouse);
void scenario_boundary_rows(TestWarehouse& warehouse);
void scenario_empty_table(TestWarehouse& warehouse);
void scenario_null_timestamps(TestWarehouse& warehouse);
void scenario_where_filter(TestWarehouse& warehouse);
void scenario_epoch_timestamps(TestWarehouse& warehouse);
void scenario_text_timestamps(TestWarehouse& warehouse);
void scenario_wall_clock_zone(TestWarehouse& warehouse);
void scenario_freshness(TestWarehouse& warehouse);
void scenario_null_rate_daily_dst(TestWarehouse& warehouse);
void scenario_missing_column(TestWarehouse& warehouse);
void scenario_query_timeout(TestWarehouse& warehouse);
void scenario_extreme_timestamps(TestWarehouse& warehouse);
// The same in a column of `column_type`, for warehouses whose instant type
// cannot hold the years 1900 and 9999 (MySQL's TIMESTAMP ends in 2038).
void scenario_extreme_timestamps(TestWarehouse& warehouse, const std::string& column_type);
void scenario_all_null_column(TestWarehouse& warehouse);

// Baselines (baseline_scenarios.cpp): 35 days of hourly orders with a daily
// and a weekly cycle, judged over the last 7 days.
void scenario_baseline_normal_week(TestWarehouse& warehouse);
void scenario_baseline_peak_hour_cut(TestWarehouse& warehouse);
void scenario_baseline_quiet_weekend_night(TestWarehouse& warehouse);
void scenario_baseline_learning(TestWarehouse& warehouse);
void scenario_baseline_null_share_rise(TestWarehouse& warehouse);

// Segments and reconciliation (segment_scenarios.cpp).
void scenario_segments_dark_country(TestWarehouse& warehouse);
// `source` stores Berlin wall-clock time, `target` instants.
void scenario_reconcile(TestWarehouse& source, TestWarehouse& target);

}  // namespace gapwatch::testing
