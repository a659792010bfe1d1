// The rule keys of segments and reconciliation (issue 16): segment_by and
// max_segments, the source block, and the missing/extra thresholds it takes.
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "monitor/config/config.h"

namespace gapwatch {
namespace {

std::string errors_of(std::string_view yaml) {
  const ConfigResult result =
      load_config_text(yaml, "gapwatch.yaml", [](const std::string&) { return std::nullopt; });
  REQUIRE_FALSE(result.has_value());
  std::string out;
  for (const ConfigError& error : result.error()) {
    out += (out.empty() ? "" : "\n") + error.format();
  }
  return out;
}

RuleSpec only_rule(std::string_view yaml) {
  const ConfigResult result =
      load_config_text(yaml, "gapwatch.yaml", [](const std::string&) { return std::nullopt; });
  REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : result.error().front().format()));
  REQUIRE(result->rules.size() == 1);
  return result->rules.front().spec;
}

// A warehouse and a rule `orders` whose remaining keys are `body`, from line 7,
// its keys in column 5.
std::string one_rule(std::string_view body) {
  return R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=X"
rules:
  - name: orders
)" + std::string(body);
}

// one_rule() with a partitioned row_count rule; `body` from line 11.
std::string segmented(std::string_view body) {
  return one_rule(R"(    table: public.orders
    check: row_count
    timestamp_column: created_at
    partition: {every: 1h, lookback: 2d, delay: 1h}
)" + std::string(body));
}

// Two warehouses, the target dwh and the source erp, and the head of a rule
// on dwh naming `check` on line 11; `body` follows from line 12.
std::string two_warehouses(std::string_view check, std::string_view body) {
  return std::string(R"(version: 1
warehouses:
  - name: dwh
    connection: "Driver=X"
  - name: erp
    connection: "Driver=Y"
rules:
  - name: orders_loaded
    warehouse: dwh
    table: analytics.orders
)") + "    check: " + std::string(check) + "\n" + std::string(body);
}

// A partitioned row_count rule on dwh (lines 1-13); `body` from line 14.
std::string reconciled(std::string_view body) {
  return two_warehouses("row_count", std::string(R"(    timestamp_column: created_at
    partition: {every: 1h, lookback: 3d, delay: 1h}
)") + std::string(body));
}

// A source line for reconciled() that is complete and valid.
constexpr std::string_view kSource =
    "    source: {warehouse: erp, table: sales.orders, timestamp_column: created_at}\n";

// ---------------------------------------------------------------------------
// segment_by and max_segments

TEST_CASE("config: segment_by lists 1 to 3 columns; max_segments defaults to 1000") {
  const RuleSpec spec = only_rule(segmented("    segment_by: [country, channel]\n"
                                            "    fail: {min: 1}\n"));
  CHECK(spec.segment_by == std::vector<std::string>{"country", "channel"});
  CHECK(spec.max_segments == kDefaultMaxSegments);

  const RuleSpec three = only_rule(segmented(R"(    segment_by:
      - country
      - channel
      - device
    max_segments: 100000
    baseline: {}
    fail: {drop: 50%}
)"));
  CHECK(three.segment_by == std::vector<std::string>{"country", "channel", "device"});
  CHECK(three.max_segments == kMaxMaxSegments);
  CHECK(three.baseline);
}

TEST_CASE("config: segment_by applies to null_rate with a partition too") {
  const RuleSpec spec = only_rule(one_rule(R"(    table: users
    check: null_rate
    column: email
    timestamp_column: created_at
    partition: {every: 1d, lookback: 7d}
    segment_by: [country]
    max_segments: 10
    fail: {max: 5%}
)"));
  CHECK(spec.segment_by == std::vector<std::string>{"country"});
  CHECK(spec.max_segments == 10);
}

TEST_CASE("config: segment_by and max_segments may be defaults") {
  const ConfigResult result = load_config_text(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=X"
defaults:
  segment_by: [country]
  max_segments: 20
rules:
  - name: orders
    table: orders
    check: row_count
    timestamp_column: ts
    partition: {every: 1h, lookback: 1d}
    fail: {min: 1}
  - name: refunds
    table: refunds
    check: row_count
    timestamp_column: ts
    partition: {every: 1h, lookback: 1d}
    segment_by: [channel]
    fail: {min: 1}
)",
                                               "gapwatch.yaml",
                                               [](const std::string&) { return std::nullopt; });
  REQUIRE(result.has_value());
  CHECK(result->rules[0].spec.segment_by == std::vector<std::string>{"country"});
  CHECK(result->rules[0].spec.max_segments == 20);
  CHECK(result->rules[1].spec.segment_by == std::vector<std::string>{"channel"});
}

TEST_CASE("config: segment_by is a list of 1 to 3 distinct column identifiers") {
  CHECK(errors_of(segmented("    segment_by: country\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:17: error: rules[0].segment_by: expected a list, found a scalar");
  CHECK(errors_of(segmented("    segment_by: []\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:17: error: rules[0].segment_by: segment_by takes 1 to 3 columns, "
        "got 0");
  CHECK(errors_of(segmented("    segment_by: [a, b, c, d]\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:17: error: rules[0].segment_by: segment_by takes 1 to 3 columns, "
        "got 4");
  CHECK(errors_of(segmented("    segment_by: [country, 1x]\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:27: error: rules[0].segment_by[1]: invalid identifier '1x': must "
        "start with a letter or underscore");
  CHECK(errors_of(segmented("    segment_by: [country, [a]]\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:27: error: rules[0].segment_by[1]: expected a text value, found a "
        "list");
  CHECK(errors_of(segmented("    segment_by: [country, country]\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:27: error: rules[0].segment_by[1]: segment_by names 'country' twice");
}

TEST_CASE("config: segment_by may not name the timestamp_column") {
  CHECK(errors_of(segmented("    segment_by: [country, created_at]\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:27: error: rules[0].segment_by[1]: 'created_at' is the "
        "timestamp_column: the buckets already divide the rows by time");
}

TEST_CASE("config: segment_by needs row_count or null_rate with a partition") {
  CHECK(errors_of(one_rule(R"(    table: orders
    check: freshness
    timestamp_column: ts
    segment_by: [country]
    fail: {max: 1h}
)")) == "gapwatch.yaml:10:17: error: rules[0].segment_by: freshness judges the newest row; "
        "segment_by applies to row_count and null_rate");
  CHECK(errors_of(one_rule(R"(    table: orders
    check: row_count
    segment_by: [country]
    fail: {min: 1}
)")) == "gapwatch.yaml:9:17: error: rules[0].segment_by: segment_by judges each segment bucket "
        "by bucket: give the rule a partition");
}

TEST_CASE("config: max_segments is 1 to 100000, and only with segment_by") {
  CHECK(errors_of(segmented("    max_segments: 10\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:11:19: error: rules[0].max_segments: max_segments applies with "
        "segment_by only");
  CHECK(errors_of(segmented("    segment_by: [country]\n    max_segments: 0\n"
                            "    fail: {min: 1}\n")) ==
        "gapwatch.yaml:12:19: error: rules[0].max_segments: 0 is out of range 1..100000");
  CHECK(errors_of(segmented("    segment_by: [country]\n    max_segments: 100001\n"
                            "    fail: {min: 1}\n")) ==
        "gapwatch.yaml:12:19: error: rules[0].max_segments: 100001 is out of range 1..100000");
}

// ---------------------------------------------------------------------------
// source and the missing/extra thresholds

TEST_CASE("config: a source names its warehouse, table and timestamp column") {
  const RuleSpec spec = only_rule(reconciled(R"(    segment_by: [country]
    source:
      warehouse: erp
      table: sales.orders
      timestamp_column: ordered_at
      timestamp_format: epoch_ms
      where: "status <> 'draft'"
    fail: {missing: 0}
    warn: {extra: 0}
)"));
  REQUIRE(spec.source);
  CHECK(spec.source->warehouse == "erp");
  CHECK(spec.source->table.display() == "sales.orders");
  CHECK(spec.source->timestamp_column == "ordered_at");
  CHECK(spec.source->timestamp_format == TimestampFormat::epoch_ms);
  CHECK(spec.source->where == "status <> 'draft'");
  CHECK(spec.segment_by == std::vector<std::string>{"country"});
  CHECK(spec.thresholds.fail.missing == Allowance{0, false});
  CHECK_FALSE(spec.thresholds.fail.extra);
  REQUIRE(spec.thresholds.warn);
  CHECK(spec.thresholds.warn->extra == Allowance{0, false});

  const RuleSpec plain = only_rule(reconciled(std::string(kSource) + "    fail: {extra: 3}\n"));
  CHECK(plain.source->timestamp_format == TimestampFormat::native);
  CHECK_FALSE(plain.source->where);
  CHECK(plain.thresholds.fail.extra == Allowance{3, false});
}

TEST_CASE("config: missing and extra take a row count or a share of the source's rows") {
  const RuleSpec spec = only_rule(reconciled(std::string(kSource) +
                                             R"(    fail: {missing: "0.1%", extra: 100%, min: 1}
    warn: {missing: 0, extra: 5%}
)"));
  REQUIRE(spec.thresholds.fail.missing);
  CHECK(spec.thresholds.fail.missing->share);
  CHECK(spec.thresholds.fail.missing->value == doctest::Approx(0.001));
  CHECK(spec.thresholds.fail.extra->share);
  CHECK(spec.thresholds.fail.extra->value == doctest::Approx(1.0));
  CHECK(spec.thresholds.fail.min == 1.0);
  // warn and fail of different kinds are not compared.
  CHECK(spec.thresholds.warn->missing == Allowance{0, false});
  REQUIRE(spec.thresholds.warn->extra);
  CHECK(spec.thresholds.warn->extra->share);
  CHECK(spec.thresholds.warn->extra->value == doctest::Approx(0.05));
}

TEST_CASE("config: the source warehouse may be the rule's own") {
  const RuleSpec spec = only_rule(reconciled(R"(    source: {warehouse: dwh, table: staging.orders, timestamp_column: created_at}
    fail: {missing: 0}
)"));
  CHECK(spec.source->warehouse == "dwh");
}

TEST_CASE("config: a source's keys are checked like a rule's") {
  CHECK(errors_of(reconciled(R"(    source: {warehouse: erp, table: sales.orders, timestamp_column: ts, zone: UTC}
    fail: {missing: 0}
)")) == "gapwatch.yaml:14:73: error: rules[0].source.zone: unknown key 'zone' (expected one of: "
        "warehouse, table, timestamp_column, timestamp_format, where)");
  CHECK(errors_of(reconciled("    source: {where: \"a = 1\"}\n    fail: {missing: 0}\n")) ==
        "gapwatch.yaml:14:13: error: rules[0].source: missing required key 'warehouse'\n"
        "gapwatch.yaml:14:13: error: rules[0].source: missing required key 'table'\n"
        "gapwatch.yaml:14:13: error: rules[0].source: missing required key 'timestamp_column'");
  CHECK(errors_of(reconciled("    source: erp\n    fail: {missing: 0}\n")) ==
        "gapwatch.yaml:14:13: error: rules[0].source: expected a mapping, found a scalar");
  CHECK(errors_of(reconciled(R"(    source: {warehouse: erq, table: sales.orders, timestamp_column: ts}
    fail: {missing: 0}
)")) == "gapwatch.yaml:14:25: error: rules[0].source.warehouse: unknown warehouse 'erq' (did "
        "you mean 'erp'?)");
  CHECK(errors_of(reconciled(R"(    source: {warehouse: erp, table: a.b.c.d, timestamp_column: ts}
    fail: {missing: 0}
)")) == "gapwatch.yaml:14:37: error: rules[0].source.table: invalid name 'a.b.c.d': at most "
        "catalog.schema.table");
  CHECK(errors_of(reconciled(R"(    source: {warehouse: erp, table: orders, timestamp_column: 2ts}
    fail: {missing: 0}
)")) == "gapwatch.yaml:14:63: error: rules[0].source.timestamp_column: invalid identifier '2ts': "
        "must start with a letter or underscore");
  CHECK(errors_of(reconciled(R"(    source: {warehouse: erp, table: orders, timestamp_column: ts, timestamp_format: iso}
    fail: {missing: 0}
)")) == "gapwatch.yaml:14:85: error: rules[0].source.timestamp_format: 'iso' is not one of "
        "native, epoch_s, epoch_ms, text");
  CHECK(errors_of(reconciled(R"(    source: {warehouse: erp, table: orders, timestamp_column: ts, where: "a = 1; drop table x"}
    fail: {missing: 0}
)")) == "gapwatch.yaml:14:74: error: rules[0].source.where: where must be a single predicate "
        "(no ';')");
}

TEST_CASE("config: a source warehouse with errors of its own is not reported again") {
  const std::string errors = errors_of(R"(version: 1
warehouses:
  - name: dwh
    connection: "Driver=X"
  - name: erp
    dialect: oracle
    connection: "Driver=Y"
rules:
  - name: orders_loaded
    warehouse: dwh
    table: analytics.orders
    check: row_count
    timestamp_column: created_at
    partition: {every: 1h, lookback: 3d}
    source: {warehouse: erp, table: sales.orders, timestamp_column: created_at}
    fail: {missing: 0}
)");
  CHECK(errors.starts_with("gapwatch.yaml:6:14: error: warehouses[1].dialect: 'oracle' is not "
                           "one of"));
  CHECK(errors.find('\n') == std::string::npos);
}

TEST_CASE("config: a source needs row_count with a partition, and no baseline") {
  CHECK(errors_of(two_warehouses("freshness", std::string("    timestamp_column: ts\n") +
                                                  std::string(kSource) + "    fail: {max: 1h}\n")) ==
        "gapwatch.yaml:13:13: error: rules[0].source: a source is reconciled by counting rows: "
        "source applies to row_count only");
  CHECK(errors_of(two_warehouses("null_rate", R"(    column: email
    timestamp_column: created_at
    partition: {every: 1h, lookback: 3d}
    source: {warehouse: erp, table: sales.orders, timestamp_column: created_at}
    fail: {max: 5%}
)")) == "gapwatch.yaml:15:13: error: rules[0].source: a source is reconciled by counting rows: "
        "source applies to row_count only");
  CHECK(errors_of(two_warehouses("row_count",
                                 std::string(kSource) + "    fail: {missing: 0}\n")) ==
        "gapwatch.yaml:12:13: error: rules[0].source: a source is compared bucket by bucket: "
        "give the rule a partition");
  CHECK(errors_of(reconciled(std::string(kSource) + "    baseline: {}\n    fail: {missing: 0}\n")) ==
        "gapwatch.yaml:14:13: error: rules[0].source: a source rule is judged against its "
        "source, not a baseline");
}

TEST_CASE("config: missing and extra need a source; a source needs missing or extra") {
  CHECK(errors_of(reconciled("    fail: {missing: 0}\n")) ==
        "gapwatch.yaml:14:21: error: rules[0].fail.missing: missing counts the rows the table "
        "lacks against its source: give the rule a source");
  CHECK(errors_of(reconciled("    fail: {min: 1}\n    warn: {extra: 0}\n")) ==
        "gapwatch.yaml:15:19: error: rules[0].warn.extra: extra counts the rows the table has "
        "beyond its source: give the rule a source");
  CHECK(errors_of(reconciled(std::string(kSource) + "    fail: {min: 1}\n")) ==
        "gapwatch.yaml:14:13: error: rules[0].source: rule 'orders_loaded' has a source but no "
        "missing or extra threshold: give fail or warn missing (rows the table lacks) or extra "
        "(rows beyond the source), e.g. fail: {missing: 0}");
  CHECK(errors_of(reconciled(std::string(kSource) + "    fail: {}\n")) ==
        "gapwatch.yaml:15:11: error: rules[0].fail: give min, max, missing, extra or several");
}

TEST_CASE("config: missing and extra are whole rows or a percentage of at most 100%") {
  const auto fail_with = [](std::string_view value) {
    return errors_of(reconciled(std::string(kSource) + "    fail: {missing: " +
                                std::string(value) + "}\n"));
  };
  const std::string expected = "gapwatch.yaml:15:21: error: rules[0].fail.missing: ";
  CHECK(fail_with("-1") == expected + "a number of rows cannot be negative, got '-1'");
  CHECK(fail_with("1.5") == expected +
                                "expected a whole number of rows such as 0 or a share of the "
                                "source's rows such as 0.1%, got '1.5'");
  CHECK(fail_with("lots") == expected +
                                 "expected a whole number of rows such as 0 or a share of the "
                                 "source's rows such as 0.1%, got 'lots'");
  CHECK(fail_with("150%") == expected + "a share of the source's rows lies between 0% and 100%, "
                                        "got '150%'");
  CHECK(fail_with("-1%") == expected + "a share of the source's rows lies between 0% and 100%, "
                                       "got '-1%'");
  CHECK(fail_with("[1]") == expected + "expected a text value, found a list");
}

TEST_CASE("config: warn.missing and warn.extra must be below fail's of the same kind") {
  CHECK(errors_of(reconciled(std::string(kSource) + "    fail: {missing: 10}\n"
                                                    "    warn: {missing: 10}\n")) ==
        "gapwatch.yaml:16:11: error: rules[0].warn: warn.missing must be below fail.missing, or "
        "warn could never fire before fail");
  CHECK(errors_of(reconciled(std::string(kSource) + "    fail: {extra: 1%}\n"
                                                    "    warn: {extra: 2%}\n")) ==
        "gapwatch.yaml:16:11: error: rules[0].warn: warn.extra must be below fail.extra, or "
        "warn could never fire before fail");
  const RuleSpec spec = only_rule(reconciled(std::string(kSource) + "    fail: {missing: 10}\n"
                                                                    "    warn: {missing: 9}\n"));
  CHECK(spec.thresholds.warn->missing == Allowance{9, false});
}

TEST_CASE("config: an unknown threshold key lists missing and extra") {
  CHECK(errors_of(reconciled(std::string(kSource) + "    fail: {missing: 0, lost: 1}\n")) ==
        "gapwatch.yaml:15:24: error: rules[0].fail.lost: unknown key 'lost' (expected one of: "
        "min, max, drop, rise, missing, extra)");
}

}  // namespace
}  // namespace gapwatch
