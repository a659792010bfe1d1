#include "monitor/state/baseline_book.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "rules/dialect.h"
#include "rules/row_count.h"
#include "tests/monitor/state/state_support.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::open_store;
using testing::TemporaryDirectory;
using testing::value_of;

// Wednesday 2026-11-25 06:10Z. Hourly buckets in Europe/Berlin, lookback 2d,
// delay 1h: judged are 2026-11-23T07:00Z .. 2026-11-25T05:00Z (46), and the
// same five minutes later; an hour later they start at 08:00Z.
// (A static may not use doctest.)
const Instant kStart = Instant{std::chrono::seconds{1795586400}} + minutes{10};
const Instant kJudgedStart = kStart - minutes{10} - hours{47};

RuleSpec orders_hourly() {
  RuleSpec spec;
  spec.name = "orders_hourly";
  spec.warehouse = "shop";
  spec.table = value_of(parse_qualified_name("public.orders"));
  spec.check = CheckKind::row_count;
  spec.timestamp_column = "created_at";
  PartitionSpec partition;
  partition.every = hours{1};
  partition.lookback = hours{48};
  partition.delay = hours{1};
  partition.zone = testing::zone("Europe/Berlin");
  spec.partition = partition;
  spec.baseline = BaselineSpec{};
  spec.thresholds.fail.drop = 0.5;
  return spec;
}

// The statement's rows: `rows_per_bucket` rows in every bucket it reads.
ResultRows rows_for(const QueryPlan& plan, std::int64_t rows_per_bucket) {
  ResultRows rows;
  std::vector<Bucket> read = plan.history_buckets;
  read.insert(read.end(), plan.buckets.begin(), plan.buckets.end());
  for (const Bucket& bucket : read) {
    const auto granule =
        (bucket.start.time_since_epoch().count() - plan.granules.base) / plan.granules.size;
    rows.push_back({std::to_string(granule), std::to_string(rows_per_bucket)});
  }
  return rows;
}

// A raw connection that counts the rows the store writes to baseline_buckets
// and baselines, with triggers in the file (the store's own connection fires
// them). Counted are row writes, even of equal values: SQLite commits a
// rewrite of equal values without changing the file, so PRAGMA data_version
// could not tell.
class Observer {
 public:
  explicit Observer(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    execute("CREATE TABLE observed (name TEXT PRIMARY KEY, n INTEGER NOT NULL)");
    for (const std::string table : {"baseline_buckets", "baselines"}) {
      execute(fmt::format("INSERT INTO observed VALUES ('{}', 0)", table));
      for (const std::string change : {"INSERT", "UPDATE"}) {
        execute(fmt::format("CREATE TRIGGER count_{0}_{1} AFTER {0} ON {1} BEGIN "
                            "UPDATE observed SET n = n + 1 WHERE name = '{1}'; END",
                            change, table));
      }
    }
  }
  ~Observer() { sqlite3_close(m_db); }
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // Buckets written since the last call.
  std::int64_t bucket_writes() { return since_last("baseline_buckets", m_bucket_writes); }
  // Writes of the rule's row of baselines (one per write of the baseline)
  // since the last call.
  std::int64_t baseline_writes() { return since_last("baselines", m_baseline_writes); }
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(m_db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    const std::int64_t value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
  }

 private:
  void execute(const std::string& sql) {
    REQUIRE_MESSAGE(sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK,
                    sqlite3_errmsg(m_db));
  }
  std::int64_t since_last(const std::string& table, std::int64_t& seen) {
    const std::int64_t total =
        integer(fmt::format("SELECT n FROM observed WHERE name = '{}'", table));
    const std::int64_t since = total - seen;
    seen = total;
    return since;
  }
  sqlite3* m_db = nullptr;
  std::int64_t m_bucket_writes = 0;
  std::int64_t m_baseline_writes = 0;
};

struct Fixture {
  TemporaryDirectory directory;
  std::string path = directory.file("state.db");
  std::unique_ptr<StateStore> store = open_store(path);
  std::unique_ptr<BaselineBook> book = std::make_unique<BaselineBook>(*store);
  RuleSpec spec = orders_hourly();

  // One evaluation as the daemon makes it: the kept history, the plan it
  // decides, the judgement of the warehouse's answer, and the record of it.
  Verdict evaluate(Instant now, std::int64_t rows_per_bucket = 10) {
    const std::shared_ptr<const BaselineHistory> history = book->history_for(spec, now);
    REQUIRE(history != nullptr);
    PlanContext context;
    context.dialect = &postgres_dialect();
    context.encoding = TimeEncoding::instant;
    context.warehouse_zone = utc_zone();
    context.now = now;
    context.history = history.get();
    const QueryPlan plan = value_of(plan_row_count(spec, context));
    Verdict verdict = judge_row_count(spec, plan, rows_for(plan, rows_per_bucket));
    book->record(spec, verdict, now);
    return verdict;
  }
  BaselineHistory kept() {
    const std::optional<BaselineHistory> history = value_of(store->baseline(spec.name));
    REQUIRE(history.has_value());
    return *history;
  }
  // The statement's start the next evaluation at `now` would read from.
  std::optional<Instant> next_read_from(Instant now) {
    const auto history = book->history_for(spec, now);
    const Instant judged_start = judged_buckets(*spec.partition, now).front().start;
    return history_read_from(spec, history.get(), judged_start, now);
  }
};

TEST_CASE("baseline book: a rule without a baseline has no history") {
  Fixture f;
  f.spec.baseline.reset();
  CHECK(f.book->history_for(f.spec, kStart) == nullptr);
  f.book->record(f.spec, Verdict{}, kStart);
  CHECK_FALSE(value_of(f.store->baseline(f.spec.name)).has_value());
  CHECK(f.book->memory_bytes() == 0);
}

TEST_CASE("baseline book: the history is read once, then settled buckets are written as they settle") {
  Fixture f;
  Observer observer(f.path);
  // 28 days and the DST hour (rules/baseline.h, history_start).
  const Instant history_start = kJudgedStart - hours{24 * 28 + 1};

  // The first evaluation reads the whole history with the lookback; the
  // settled buckets (all but the judged ones) are written.
  const Verdict first = f.evaluate(kStart);
  REQUIRE(first.buckets.size() == 46);
  REQUIRE(first.buckets.front().start == kJudgedStart);
  CHECK(first.history_read_from == history_start);
  CHECK(observer.bucket_writes() == 28 * 24 + 1);
  CHECK(observer.baseline_writes() == 1);
  BaselineHistory kept = f.kept();
  CHECK(kept.buckets.size() == 28 * 24 + 1);
  CHECK(kept.buckets.front().start == history_start);
  CHECK(kept.buckets.back().end == kJudgedStart);
  CHECK(kept.fingerprint == baseline_fingerprint(f.spec));
  CHECK(kept.covered_from == history_start);
  CHECK(kept.covered_to == kJudgedStart);
  CHECK(kept.full_read_at == kStart);
  // In memory: the judged buckets too, up to where the judged range ends.
  const auto remembered = f.book->history_for(f.spec, kStart);
  CHECK(remembered->buckets.size() == 28 * 24 + 1 + 46);
  CHECK(remembered->covered_to == first.buckets.back().end);
  CHECK(f.book->memory_bytes() >= (28 * 24 + 1 + 46) * sizeof(CountedBucket));

  // Five minutes later, the same judged range: the lookback only is read,
  // and nothing is written at all.
  const Verdict again = f.evaluate(kStart + minutes{5});
  CHECK_FALSE(again.history_read_from);
  CHECK(again.buckets.front().start == kJudgedStart);
  CHECK(observer.baseline_writes() == 0);
  CHECK(observer.bucket_writes() == 0);

  // An hour later one bucket has settled: it alone is written, and the
  // oldest one leaves the history.
  const Verdict later = f.evaluate(kStart + hours{1});
  CHECK_FALSE(later.history_read_from);
  CHECK(later.buckets.front().start == kJudgedStart + hours{1});
  CHECK(observer.baseline_writes() == 1);
  CHECK(observer.bucket_writes() == 1);
  kept = f.kept();
  CHECK(kept.buckets.size() == 28 * 24 + 1);
  CHECK(kept.buckets.front().start == history_start + hours{1});
  CHECK(kept.buckets.back().start == kJudgedStart);
  CHECK(kept.covered_from == history_start + hours{1});
  CHECK(kept.covered_to == kJudgedStart + hours{1});
  CHECK(kept.full_read_at == kStart);  // not read in full again
}

TEST_CASE("baseline book: after a restart the statement reads from where the settled counts end") {
  Fixture f;
  f.evaluate(kStart);
  f.evaluate(kStart + hours{1});
  // A new book over the same file, as after a restart.
  f.book = std::make_unique<BaselineBook>(*f.store);
  const Instant now = kStart + hours{3};
  const auto history = f.book->history_for(f.spec, now);
  CHECK(history->covered_to == kJudgedStart + hours{1});
  CHECK(history->buckets.back().end == kJudgedStart + hours{1});
  CHECK(f.next_read_from(now) == kJudgedStart + hours{1});

  Observer observer(f.path);
  const Verdict verdict = f.evaluate(now);
  CHECK(verdict.history_read_from == kJudgedStart + hours{1});
  CHECK(verdict.history_read.size() == 2);
  CHECK(observer.bucket_writes() == 2);
  const BaselineHistory kept = f.kept();
  CHECK(kept.covered_to == kJudgedStart + hours{3});
  CHECK(kept.buckets.size() == 28 * 24 + 1);
  CHECK(kept.full_read_at == kStart);
  // And then only the lookback again.
  CHECK_FALSE(f.next_read_from(now + minutes{5}));
}

TEST_CASE("baseline book: reread makes the next evaluation read the window again") {
  Fixture f;
  f.evaluate(kStart);
  const Instant from = kJudgedStart - hours{5};
  f.book->reread(f.spec.name, from);
  CHECK(f.book->history_for(f.spec, kStart)->covered_to == from);
  CHECK(f.kept().covered_to == from);
  CHECK(f.next_read_from(kStart + minutes{5}) == from);

  // The backfilled window now has 20 rows a bucket.
  Observer observer(f.path);
  const Verdict verdict = f.evaluate(kStart + minutes{5}, 20);
  CHECK(verdict.history_read_from == from);
  CHECK(observer.bucket_writes() == 5);
  const BaselineHistory kept = f.kept();
  CHECK(kept.covered_to == kJudgedStart);
  CHECK(kept.buckets.back().rows == 20);
  CHECK(kept.buckets[kept.buckets.size() - 6].rows == 10);
  CHECK(kept.full_read_at == kStart);
  CHECK_FALSE(f.next_read_from(kStart + minutes{10}));

  SUBCASE("an evaluation under way when the reread came does not cover it") {
    const auto before = f.book->history_for(f.spec, kStart + minutes{10});
    f.book->reread(f.spec.name, from);
    // Planned with the history from before the reread: reads the lookback only.
    PlanContext context;
    context.dialect = &postgres_dialect();
    context.warehouse_zone = utc_zone();
    context.now = kStart + minutes{10};
    context.history = before.get();
    const QueryPlan plan = value_of(plan_row_count(f.spec, context));
    const Verdict stale = judge_row_count(f.spec, plan, rows_for(plan, 10));
    CHECK_FALSE(stale.history_read_from);
    f.book->record(f.spec, stale, kStart + minutes{10});
    CHECK(f.next_read_from(kStart + minutes{15}) == from);
    CHECK(f.kept().covered_to == from);
  }
}

TEST_CASE("baseline book: another fingerprint reads the whole history again") {
  Fixture f;
  f.evaluate(kStart);
  f.spec.where = "status <> 'test'";
  const Instant now = kStart + hours{1};
  const Instant history_start = kJudgedStart + hours{1} - hours{24 * 28 + 1};
  CHECK(f.next_read_from(now) == history_start);
  Observer observer(f.path);
  const Verdict verdict = f.evaluate(now, 30);
  CHECK(verdict.history_read_from == history_start);
  CHECK(observer.bucket_writes() == 28 * 24 + 1);
  const BaselineHistory kept = f.kept();
  CHECK(kept.fingerprint == baseline_fingerprint(f.spec));
  CHECK(kept.full_read_at == now);
  CHECK(kept.covered_from == history_start);
  CHECK(kept.buckets.size() == 28 * 24 + 1);
  CHECK(kept.buckets.front().rows == 30);
  CHECK_FALSE(f.next_read_from(now + minutes{5}));
}

TEST_CASE("baseline book: only baseline.history is kept") {
  Fixture f;
  f.spec.baseline->history = hours{24 * 7};
  f.evaluate(kStart);
  for (int hour = 1; hour <= 30; ++hour) {
    f.evaluate(kStart + hours{hour});
  }
  const Instant judged_start = kJudgedStart + hours{30};
  const auto history = f.book->history_for(f.spec, kStart + hours{30});
  CHECK(history->buckets.front().start == judged_start - hours{24 * 7 + 1});
  CHECK(history->buckets.size() == 24 * 7 + 1 + 46);
  CHECK(history->covered_from == judged_start - hours{24 * 7 + 1});
  const BaselineHistory kept = f.kept();
  CHECK(kept.buckets.front().start == judged_start - hours{24 * 7 + 1});
  CHECK(kept.buckets.size() == 24 * 7 + 1);
  CHECK(kept.covered_from == judged_start - hours{24 * 7 + 1});
}

TEST_CASE("baseline book: a snapshot excludes the windows of incidents that did not heal") {
  Fixture f;
  const Window healed{kJudgedStart - hours{30}, kJudgedStart - hours{29}, Status::fail};
  const Window lost{kJudgedStart - hours{20}, kJudgedStart - hours{18}, Status::fail};
  for (const auto& [window, resolution] :
       {std::pair{healed, Resolution::healed}, std::pair{lost, Resolution::by_operator}}) {
    Incident incident;
    incident.rule = f.spec.name;
    incident.state = IncidentState::resolved;
    incident.resolution = resolution;
    incident.opened_at = kStart - hours{24};
    incident.updated_at = kStart - hours{12};
    incident.windows = {window};
    value_of(f.store->insert_incident(incident));
  }
  f.evaluate(kStart);
  const auto history = f.book->history_for(f.spec, kStart + minutes{5});
  CHECK(history->excluded == std::vector<Window>{lost});
  // What is kept is shared: a snapshot's exclusions are its own.
  CHECK(f.book->history_for(f.spec, kStart + hours{24 * 40})->excluded.empty());
}

TEST_CASE("baseline book: a removed rule's kept counts are dropped, the others stay") {
  Fixture f;
  f.evaluate(kStart);
  RuleSpec other = f.spec;
  other.name = "other_hourly";
  std::swap(f.spec, other);
  f.evaluate(kStart);
  std::swap(f.spec, other);
  REQUIRE(value_of(f.store->baseline_rules()) ==
          std::vector<std::string>{"orders_hourly", "other_hourly"});
  CHECK(value_of(f.book->forget_all_but({"orders_hourly"})) == 1);
  CHECK(value_of(f.store->baseline_rules()) == std::vector<std::string>{"orders_hourly"});
  CHECK(value_of(f.store->baseline(f.spec.name)).has_value());
  // Nothing more to drop the second time.
  CHECK(value_of(f.book->forget_all_but({"orders_hourly"})) == 0);
}

TEST_CASE("baseline book: without a state database it works from memory") {
  TemporaryDirectory directory;
  auto stand_in = StateStore::unavailable(directory.file("missing/state.db"), "no directory");
  BaselineBook book(*stand_in);
  const RuleSpec spec = orders_hourly();
  PlanContext context;
  context.dialect = &postgres_dialect();
  context.warehouse_zone = utc_zone();
  for (const Instant now : {kStart, kStart + hours{1}}) {
    const auto history = book.history_for(spec, now);
    REQUIRE(history != nullptr);
    context.now = now;
    context.history = history.get();
    const QueryPlan plan = value_of(plan_row_count(spec, context));
    const Verdict verdict = judge_row_count(spec, plan, rows_for(plan, 10));
    // Read in full once, then kept in memory.
    CHECK(verdict.history_read_from.has_value() == (now == kStart));
    book.record(spec, verdict, now);
  }
  CHECK(book.history_for(spec, kStart + hours{1})->buckets.size() == 28 * 24 + 1 + 46);
}

// Buckets of hour `from` and the next, of segment `segment`.
std::vector<CountedBucket> two_hours(Instant from, std::uint32_t segment, std::int64_t rows) {
  return {CountedBucket{from, from + hours{1}, rows, 0, segment},
          CountedBucket{from + hours{1}, from + hours{2}, rows, 0, segment}};
}

BucketVerdict judged_bucket(Instant start, std::uint32_t segment, std::int64_t rows) {
  BucketVerdict bucket;
  bucket.start = start;
  bucket.end = start + hours{1};
  bucket.rows = rows;
  bucket.value = static_cast<double>(rows);
  bucket.status = Status::pass;
  bucket.segment = segment;
  return bucket;
}

SegmentVerdict segment_verdict(SegmentKey key) {
  return SegmentVerdict{std::move(key), Status::pass, std::nullopt, ""};
}

std::vector<CountedBucket> concatenated(std::vector<std::vector<CountedBucket>> parts) {
  std::vector<CountedBucket> all;
  for (const auto& part : parts) {
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

TEST_CASE("baseline book: a segmented rule's history is kept by segment, in key order") {
  Fixture f;
  const Instant judged = kJudgedStart;
  const Instant history = history_start(*f.spec.baseline, judged);
  // The first evaluation reads the whole history of two segments, NULL and
  // FR; its statement's history comes in any order.
  Verdict first;
  first.status = Status::pass;
  first.segments = {segment_verdict({std::nullopt}), segment_verdict({"FR"})};
  first.history_read_from = history;
  first.history_read = concatenated({two_hours(history, 1, 5), two_hours(history, 0, 7)});
  std::swap(first.history_read[2], first.history_read[3]);
  for (const std::uint32_t segment : {0U, 1U}) {
    for (int hour = 0; hour < 2; ++hour) {
      first.buckets.push_back(judged_bucket(judged + hours{hour}, segment, 9));
    }
  }
  f.book->record(f.spec, first, kStart);
  auto remembered = f.book->history_for(f.spec, kStart);
  CHECK(remembered->segments == std::vector<SegmentKey>{{std::nullopt}, {"FR"}});
  CHECK(remembered->buckets == concatenated({two_hours(history, 0, 7), two_hours(judged, 0, 9),
                                             two_hours(history, 1, 5), two_hours(judged, 1, 9)}));
  // Settled, and so written: the history before the judged range.
  BaselineHistory kept = f.kept();
  CHECK(kept.segments == std::vector<SegmentKey>{{std::nullopt}, {"FR"}});
  CHECK(kept.buckets == concatenated({two_hours(history, 0, 7), two_hours(history, 1, 5)}));

  // An hour later the NULL segment has left the judged range's segments and
  // DE has come: what was kept of NULL stays, indexes move.
  Verdict later;
  later.status = Status::pass;
  later.segments = {segment_verdict({"DE"}), segment_verdict({"FR"})};
  for (const std::uint32_t segment : {0U, 1U}) {
    for (int hour = 1; hour < 3; ++hour) {
      later.buckets.push_back(judged_bucket(judged + hours{hour}, segment, 11));
    }
  }
  f.book->record(f.spec, later, kStart + hours{1});
  remembered = f.book->history_for(f.spec, kStart + hours{1});
  CHECK(remembered->segments == std::vector<SegmentKey>{{std::nullopt}, {"DE"}, {"FR"}});
  const auto hour_of = [](Instant start, std::uint32_t segment, std::int64_t rows) {
    return CountedBucket{start, start + hours{1}, rows, 0, segment};
  };
  CHECK(remembered->buckets ==
        std::vector<CountedBucket>{
            hour_of(history + hours{1}, 0, 7), hour_of(judged, 0, 9),
            hour_of(judged + hours{1}, 1, 11), hour_of(judged + hours{2}, 1, 11),
            hour_of(history + hours{1}, 2, 5), hour_of(judged, 2, 9),
            hour_of(judged + hours{1}, 2, 11), hour_of(judged + hours{2}, 2, 11)});
  kept = f.kept();
  CHECK(kept.segments == std::vector<SegmentKey>{{std::nullopt}, {"FR"}});
  CHECK(kept.buckets ==
        std::vector<CountedBucket>{hour_of(history + hours{1}, 0, 7), hour_of(judged, 0, 9),
                                   hour_of(history + hours{1}, 1, 5), hour_of(judged, 1, 9)});
  // A new book reads the same back.
  f.book = std::make_unique<BaselineBook>(*f.store);
  remembered = f.book->history_for(f.spec, kStart + hours{1});
  CHECK(remembered->segments == kept.segments);
  CHECK(remembered->buckets == kept.buckets);
}

TEST_CASE("baseline book: a rule without segments keeps no segments") {
  Fixture f;
  f.evaluate(kStart);
  CHECK(f.book->history_for(f.spec, kStart)->segments.empty());
  CHECK(f.kept().segments.empty());
  for (const CountedBucket& bucket : f.kept().buckets) {
    REQUIRE(bucket.segment == 0);
  }
}

}  // namespace
}  // namespace gapwatch
