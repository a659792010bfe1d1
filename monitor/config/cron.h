// CronExpression: a standard five-field cron schedule ("minute hour
// day-of-month month day-of-week", or a macro such as @daily) and the
// computation of its next firing in a user's time zone. Parsing reports errors
// as values naming the offending field. Immutable once parsed, so a shared
// instance may be used from any thread; the tz database is read-only once
// loaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rules/error.h"
#include "rules/time.h"

namespace gapwatch {

class CronExpression {
 public:
  // Fields accept *, a number, a range a-b, a list a,b,c and steps */n and
  // a-b/n. Months may be named jan-dec and weekdays sun-sat (any case);
  // day-of-week runs 0-7 with both 0 and 7 meaning Sunday, and a range ending
  // on Sunday wraps (fri-sun). Macros: @hourly @daily @midnight @weekly
  // @monthly @yearly @annually. As in every cron, when day-of-month and
  // day-of-week are both restricted (neither is a lone *), a day matches if
  // either matches.
  static Expected<CronExpression> parse(std::string_view text);

  // The first instant strictly after `after` (at second 0 of a minute) whose
  // wall clock in `zone` (non-null) matches. Daylight-saving changes follow
  // cronie: for an expression at fixed times, a wall time skipped by a
  // spring-forward fires once at the instant the clock jumps, and a wall time
  // repeated by a fall-back fires only at its first occurrence. An expression
  // with * (or */n) in its minute or hour field runs by elapsed time instead:
  // it fires in both copies of a repeated hour and not at all in a skipped
  // one, so an hourly check keeps an hourly pace.
  // Searches eight years ahead, the longest gap a satisfiable expression can
  // have (a leap day across 2100); returns Instant::max() when nothing fires
  // within that window, which for a well-behaved zone means !fires_ever(),
  // and for an `after` outside the years 1 to 9000.
  Instant next_after(Instant after, const TimeZone* zone) const;

  // False for expressions naming only impossible dates, such as "0 0 30 2 *".
  bool fires_ever() const;

  // The text as given to parse().
  const std::string& text() const { return m_text; }

 private:
  CronExpression() = default;

  bool matches_day(unsigned day_of_month, unsigned weekday) const;
  // Wall-clock times are seconds since the epoch as if the wall clock were
  // UTC. Returns the first matching minute in [from, limit).
  std::optional<std::chrono::seconds> next_matching_wall_clock(std::chrono::seconds from,
                                                               std::chrono::seconds limit) const;

  std::string m_text;
  // Bit n set means value n matches. Day-of-week uses 0-6, Sunday = 0.
  std::uint64_t m_minutes = 0;
  std::uint64_t m_hours = 0;
  std::uint64_t m_days_of_month = 0;
  std::uint64_t m_months = 0;
  std::uint64_t m_days_of_week = 0;
  bool m_day_of_month_restricted = false;
  bool m_day_of_week_restricted = false;
  // Minute or hour written with a leading *: DST handling follows elapsed time.
  bool m_follows_elapsed_time = false;
};

}  // namespace gapwatch
