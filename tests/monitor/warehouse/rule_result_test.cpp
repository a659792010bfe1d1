#include "monitor/warehouse/rule_result.h"

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

using json = nlohmann::json;
using std::chrono::hours;
using testing::at;

RuleSpec spec_of(std::vector<std::string> segment_by) {
  RuleSpec spec;
  spec.name = "orders_by_country";
  spec.warehouse = "shop";
  spec.table = QualifiedName{{"public", "orders"}};
  spec.check = CheckKind::row_count;
  spec.segment_by = std::move(segment_by);
  return spec;
}

RuleResult result_of(const RuleSpec& spec) {
  RuleResult result{RuleIdentity(spec), {}, at("2026-03-02T12:00:00Z"), std::chrono::milliseconds{5},
                    Verdict{}, QueryOutcome::ok};
  result.verdict.status = Status::pass;
  return result;
}

BucketVerdict bucket(std::string_view start, std::int64_t rows, Status status,
                     std::uint32_t segment = 0) {
  BucketVerdict verdict;
  verdict.start = at(start);
  verdict.end = verdict.start + hours{1};
  verdict.rows = rows;
  verdict.value = static_cast<double>(rows);
  verdict.status = status;
  verdict.segment = segment;
  return verdict;
}

// Two segments by country, NULL and FR, two hours each; FR went dark at 11:00.
RuleResult segmented_result() {
  RuleResult result = result_of(spec_of({"country"}));
  Verdict& verdict = result.verdict;
  verdict.status = Status::fail;
  verdict.observed = 0;
  verdict.message = "FR: 1 of 2 hourly buckets below 1 rows";
  verdict.segments = {SegmentVerdict{{std::nullopt}, Status::pass, 4, ""},
                      SegmentVerdict{{"FR"}, Status::fail, 0, "1 of 2 hourly buckets below 1 rows"}};
  verdict.buckets = {bucket("2026-03-02T10:00:00Z", 5, Status::pass, 0),
                     bucket("2026-03-02T11:00:00Z", 4, Status::pass, 0),
                     bucket("2026-03-02T10:00:00Z", 3, Status::pass, 1),
                     bucket("2026-03-02T11:00:00Z", 0, Status::fail, 1)};
  verdict.windows = {Window{at("2026-03-02T11:00:00Z"), at("2026-03-02T12:00:00Z"), Status::fail,
                            SegmentKey{"FR"}}};
  return result;
}

TEST_CASE("rule result json: a rule without segments has no segment keys at all") {
  RuleResult result = result_of(spec_of({}));
  result.verdict.status = Status::fail;
  result.verdict.buckets = {bucket("2026-03-02T10:00:00Z", 0, Status::fail)};
  result.verdict.windows = {
      Window{at("2026-03-02T10:00:00Z"), at("2026-03-02T11:00:00Z"), Status::fail}};
  const json out = result_to_json(result);
  CHECK_FALSE(out.contains("segments"));
  CHECK(out["buckets"][0] == json{{"start", "2026-03-02T10:00:00Z"},
                                  {"end", "2026-03-02T11:00:00Z"},
                                  {"rows", 0},
                                  {"nulls", 0},
                                  {"status", "fail"}});
  CHECK(out["windows"][0] == json{{"start", "2026-03-02T10:00:00Z"},
                                  {"end", "2026-03-02T11:00:00Z"},
                                  {"status", "fail"}});
}

TEST_CASE("rule result json: every bucket of every segment names its segment by column") {
  const json out = result_to_json(segmented_result());
  REQUIRE(out["buckets"].size() == 4);
  CHECK(out["buckets"][0]["segment"] == json{{"country", nullptr}});
  CHECK(out["buckets"][1]["segment"] == json{{"country", nullptr}});
  CHECK(out["buckets"][2]["segment"] == json{{"country", "FR"}});
  CHECK(out["buckets"][3] == json{{"start", "2026-03-02T11:00:00Z"},
                                  {"end", "2026-03-02T12:00:00Z"},
                                  {"segment", {{"country", "FR"}}},
                                  {"rows", 0},
                                  {"nulls", 0},
                                  {"status", "fail"}});
  CHECK(out["windows"] == json::array({json{{"start", "2026-03-02T11:00:00Z"},
                                            {"end", "2026-03-02T12:00:00Z"},
                                            {"status", "fail"},
                                            {"segment", {{"country", "FR"}}}}}));
}

TEST_CASE("rule result json: the API's form lists only the buckets of failing segments") {
  const json out = result_to_json(segmented_result(), BucketList::of_failing_segments);
  REQUIRE(out["buckets"].size() == 2);
  CHECK(out["buckets"][0]["segment"] == json{{"country", "FR"}});
  CHECK(out["buckets"][1]["segment"] == json{{"country", "FR"}});
  CHECK(out["omitted_buckets"] == 2);
  CHECK(out["segments"].size() == 2);
  CHECK_FALSE(result_to_json(segmented_result()).contains("omitted_buckets"));
}

TEST_CASE("rule result json: segments lists every known segment with its status") {
  const json out = result_to_json(segmented_result());
  CHECK(out["segments"] ==
        json::array({json{{"segment", {{"country", nullptr}}},
                          {"status", "pass"},
                          {"observed", 4},
                          {"message", ""}},
                     json{{"segment", {{"country", "FR"}}},
                          {"status", "fail"},
                          {"observed", 0},
                          {"message", "1 of 2 hourly buckets below 1 rows"}}}));
}

TEST_CASE("rule result json: a segmented rule in error has an empty segments list") {
  RuleResult result = result_of(spec_of({"country", "channel"}));
  result.verdict = error_verdict("too many segments");
  const json out = result_to_json(result);
  CHECK(out["segments"] == json::array());
  CHECK(out["buckets"] == json::array());
}

TEST_CASE("rule result json: several segment columns are named in their order") {
  RuleResult result = result_of(spec_of({"country", "channel"}));
  result.verdict.segments = {SegmentVerdict{{"FR", std::nullopt}, Status::warn, 2, "low"}};
  result.verdict.buckets = {bucket("2026-03-02T10:00:00Z", 2, Status::warn)};
  const json out = result_to_json(result);
  CHECK(out["buckets"][0]["segment"] == json{{"country", "FR"}, {"channel", nullptr}});
  CHECK(out["segments"][0]["segment"] == json{{"country", "FR"}, {"channel", nullptr}});
}

TEST_CASE("rule result json: segment values are data, escaped by the JSON library") {
  const std::string nasty = "a \"quoted\" \\ back\nslash {} }{ ,=";
  RuleResult result = result_of(spec_of({"country"}));
  result.verdict.segments = {SegmentVerdict{{nasty}, Status::fail, 0, "x"}};
  result.verdict.buckets = {bucket("2026-03-02T10:00:00Z", 0, Status::fail)};
  result.verdict.windows = {Window{at("2026-03-02T10:00:00Z"), at("2026-03-02T11:00:00Z"),
                                   Status::fail, SegmentKey{nasty}}};
  const std::string text = result_to_json(result).dump();
  const json back = json::parse(text);
  CHECK(back["buckets"][0]["segment"]["country"] == nasty);
  CHECK(back["windows"][0]["segment"]["country"] == nasty);
  CHECK(back["segments"][0]["segment"]["country"] == nasty);
  CHECK(text.find('\n') == std::string::npos);
}

TEST_CASE("rule result json: buckets of a reconciled rule carry the source's rows") {
  RuleSpec spec = spec_of({});
  spec.source = SourceSpec{};
  RuleResult result = result_of(spec);
  result.verdict.buckets = {bucket("2026-03-02T10:00:00Z", 115, Status::fail),
                            bucket("2026-03-02T11:00:00Z", 0, Status::pass)};
  result.verdict.buckets[0].source_rows = 120;
  const json out = result_to_json(result);
  CHECK(out["buckets"][0]["rows"] == 115);
  CHECK(out["buckets"][0]["source_rows"] == 120);
  // A bucket the source was not read for still has the key, empty.
  CHECK(out["buckets"][1]["source_rows"] == nullptr);

  SUBCASE("and a rule without a source has no source_rows") {
    result = result_of(spec_of({}));
    result.verdict.buckets = {bucket("2026-03-02T10:00:00Z", 115, Status::pass)};
    CHECK_FALSE(result_to_json(result)["buckets"][0].contains("source_rows"));
  }
}

}  // namespace
}  // namespace gapwatch
