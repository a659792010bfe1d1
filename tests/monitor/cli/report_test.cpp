#include "monitor/cli/report.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;

RuleResult failing_result(std::vector<std::string> segment_by) {
  RuleResult result;
  result.rule = "orders_by_country";
  result.check = CheckKind::row_count;
  result.warehouse = "shop";
  result.table = "public.orders";
  result.segment_by = std::move(segment_by);
  result.evaluated_at = at("2026-03-02T12:00:00Z");
  result.verdict.status = Status::fail;
  result.verdict.message = "1 of 2 hourly buckets below 1 rows";
  return result;
}

TEST_CASE("report: text windows of a segmented rule name their segment") {
  RuleResult result = failing_result({"country", "channel"});
  result.verdict.message = "FR, web: 1 of 2 hourly buckets below 1 rows";
  result.verdict.windows = {Window{at("2026-03-02T11:00:00Z"), at("2026-03-02T12:00:00Z"),
                                   Status::fail, SegmentKey{"FR", "web"}},
                            Window{at("2026-03-02T10:00:00Z"), at("2026-03-02T11:00:00Z"),
                                   Status::warn, SegmentKey{std::nullopt, "app"}}};
  const std::string text = render_text({result});
  CHECK(text.find("window FR, web: 2026-03-02T11:00:00Z .. 2026-03-02T12:00:00Z (fail)\n") !=
        std::string::npos);
  CHECK(text.find("window null, app: 2026-03-02T10:00:00Z .. 2026-03-02T11:00:00Z (warn)\n") !=
        std::string::npos);
}

TEST_CASE("report: text windows of a rule without segments read as before") {
  RuleResult result = failing_result({});
  result.verdict.windows = {
      Window{at("2026-03-02T11:00:00Z"), at("2026-03-02T12:00:00Z"), Status::fail}};
  CHECK(render_text({result}) ==
        "FAIL   orders_by_country  row_count  shop.public.orders  1 of 2 hourly buckets below 1 "
        "rows\n"
        "                          window 2026-03-02T11:00:00Z .. 2026-03-02T12:00:00Z (fail)\n"
        "1 rule(s): 0 pass, 0 warn, 1 fail, 0 error\n");
}

TEST_CASE("report: check --output json carries the segments of a segmented rule") {
  RuleResult result = failing_result({"country"});
  result.verdict.segments = {SegmentVerdict{{"FR"}, Status::fail, 0, "dark"}};
  const nlohmann::json document =
      nlohmann::json::parse(render_json({result}, at("2026-03-02T12:00:00Z")));
  CHECK(document["results"][0]["segments"][0]["segment"] == nlohmann::json{{"country", "FR"}});
}

}  // namespace
}  // namespace gapwatch
