#include "monitor/config/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace gapwatch {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// A leap day can be eight years from the previous one (2096 to 2104), the
// longest gap between firings of any satisfiable expression.
constexpr days k_search_horizon{8 * 366};
// Keeps instant arithmetic far from overflow and inside the tz database.
constexpr Instant k_earliest_supported{date::sys_days{date::year{1} / 1 / 1}};
constexpr Instant k_latest_supported{date::sys_days{date::year{9000} / 1 / 1}};

constexpr std::array<std::string_view, 12> k_month_names{"jan", "feb", "mar", "apr", "may", "jun",
                                                         "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> k_weekday_names{"sun", "mon", "tue", "wed",
                                                          "thu", "fri", "sat"};
// February counts 29 so that leap days are possible.
constexpr std::array<unsigned, 13> k_max_days_in_month{0,  31, 29, 31, 30, 31, 30,
                                                       31, 31, 30, 31, 30, 31};

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  // The upper end of *; differs from max only for day-of-week (7 folds to 0).
  int star_max;
  std::span<const std::string_view> names;  // names[i] stands for min + i
  std::string_view expected;                // for "is not a month (expected ...)"
  bool sunday_is_seven = false;
};

constexpr FieldSpec k_minute{"minute", 0, 59, 59, {}, {}};
constexpr FieldSpec k_hour{"hour", 0, 23, 23, {}, {}};
constexpr FieldSpec k_day_of_month{"day-of-month", 1, 31, 31, {}, {}};
constexpr FieldSpec k_month{
    "month", 1, 12, 12, k_month_names, "a month (expected 1-12 or jan-dec)"};
constexpr FieldSpec k_day_of_week{
    "day-of-week", 0, 7, 6, k_weekday_names, "a day of the week (expected 0-7 or sun-sat)", true};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};

constexpr std::array<Macro, 7> k_macros{{{"@hourly", "0 * * * *"},
                                         {"@daily", "0 0 * * *"},
                                         {"@midnight", "0 0 * * *"},
                                         {"@weekly", "0 0 * * 0"},
                                         {"@monthly", "0 0 1 * *"},
                                         {"@yearly", "0 0 1 1 *"},
                                         {"@annually", "0 0 1 1 *"}}};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::vector<std::string_view> split_on_space(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && is_space(text[pos])) {
      ++pos;
    }
    const std::size_t start = pos;
    while (pos < text.size() && !is_space(text[pos])) {
      ++pos;
    }
    if (pos > start) {
      words.push_back(text.substr(start, pos - start));
    }
  }
  return words;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses a digit string no larger than `max`; nullopt when it does not fit.
std::optional<int> parse_number(std::string_view text, int max) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

class FieldParser {
 public:
  FieldParser(const FieldSpec& spec, std::string_view field) : m_spec(spec), m_field(field) {}

  Expected<std::uint64_t> parse() const {
    std::uint64_t bits = 0;
    std::size_t pos = 0;
    while (true) {
      const std::size_t comma = m_field.find(',', pos);
      const std::string_view item = m_field.substr(
          pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      Expected<std::uint64_t> item_bits = parse_item(item);
      if (!item_bits) {
        return item_bits;
      }
      bits |= *item_bits;
      if (comma == std::string_view::npos) {
        return bits;
      }
      pos = comma + 1;
    }
  }

 private:
  std::unexpected<Error> error(std::string_view problem) const {
    return fail(fmt::format("{} field '{}': {}", m_spec.name, m_field, problem));
  }

  Expected<int> parse_value(std::string_view token) const {
    if (all_digits(token)) {
      const std::optional<int> value = parse_number(token, m_spec.max);
      if (!value || *value < m_spec.min) {
        return error(fmt::format("value {} out of range {}-{}", token, m_spec.min, m_spec.max));
      }
      return *value;
    }
    for (std::size_t i = 0; i < m_spec.names.size(); ++i) {
      if (equals_ignoring_case(token, m_spec.names[i])) {
        return m_spec.min + static_cast<int>(i);
      }
    }
    if (m_spec.names.empty()) {
      return error(fmt::format("'{}' is not a number", token));
    }
    return error(fmt::format("'{}' is not {}", token, m_spec.expected));
  }

  // A single value or a range a-b, as [low, high].
  Expected<std::pair<int, int>> parse_range(std::string_view base, bool has_step, int step) const {
    const std::size_t dash = base.find('-');
    if (dash == std::string_view::npos) {
      if (has_step) {
        return error(fmt::format("a step needs a range or * before it (write '{}-{}/{}' or '*/{}')",
                                 base, m_spec.max, step, step));
      }
      const Expected<int> value = parse_value(base);
      if (!value) {
        return std::unexpected(value.error());
      }
      return std::pair(*value, *value);
    }
    if (dash == 0) {
      return error(fmt::format("range '{}' has no start", base));
    }
    if (dash + 1 == base.size()) {
      return error(fmt::format("range '{}' has no end", base));
    }
    const Expected<int> low = parse_value(base.substr(0, dash));
    if (!low) {
      return std::unexpected(low.error());
    }
    Expected<int> high = parse_value(base.substr(dash + 1));
    if (!high) {
      return std::unexpected(high.error());
    }
    // Sunday is both 0 and 7, so "fri-sun" means fri-7.
    if (m_spec.sunday_is_seven && *high == 0) {
      *high = 7;
    }
    if (*low > *high) {
      return error(
          fmt::format("range '{}' runs backwards (start {} is after end {})", base, *low, *high));
    }
    return std::pair(*low, *high);
  }

  Expected<std::uint64_t> parse_item(std::string_view item) const {
    if (item.empty()) {
      return error("empty list element");
    }
    std::string_view base = item;
    int step = 1;
    const std::size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      base = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      if (!all_digits(step_text)) {
        return error(fmt::format("step '{}' is not a number", step_text));
      }
      const std::optional<int> value = parse_number(step_text, m_spec.max);
      if (!value || *value < 1) {
        return error(fmt::format("step {} out of range 1-{}", step_text, m_spec.max));
      }
      step = *value;
    }
    int low = m_spec.min;
    int high = m_spec.star_max;
    if (base != "*") {
      const bool has_step = slash != std::string_view::npos;
      const Expected<std::pair<int, int>> range = parse_range(base, has_step, step);
      if (!range) {
        return std::unexpected(range.error());
      }
      std::tie(low, high) = *range;
    }
    std::uint64_t bits = 0;
    for (int value = low; value <= high; value += step) {
      const int folded = m_spec.sunday_is_seven ? value % 7 : value;
      bits |= std::uint64_t{1} << folded;
    }
    return bits;
  }

  const FieldSpec& m_spec;
  std::string_view m_field;
};

bool has_bit(std::uint64_t bits, unsigned index) {
  return ((bits >> index) & 1U) != 0;
}

// The smallest set bit at or above `from` (< 64), or -1.
int next_bit(std::uint64_t bits, int from) {
  const std::uint64_t remaining = bits & (~std::uint64_t{0} << from);
  return remaining == 0 ? -1 : std::countr_zero(remaining);
}

}  // namespace

Expected<CronExpression> CronExpression::parse(std::string_view text) {
  std::vector<std::string_view> fields = split_on_space(text);
  if (fields.size() == 1 && fields[0].starts_with('@')) {
    const auto macro = std::find_if(k_macros.begin(), k_macros.end(), [&](const Macro& m) {
      return equals_ignoring_case(m.name, fields[0]);
    });
    if (macro == k_macros.end()) {
      return fail(
          fmt::format("unknown macro '{}' (expected @hourly, @daily, @midnight, @weekly, "
                      "@monthly, @yearly or @annually)",
                      fields[0]));
    }
    fields = split_on_space(macro->expansion);
  }
  if (fields.size() != 5) {
    return fail(fmt::format(
        "expected 5 fields (minute hour day-of-month month day-of-week), got {}", fields.size()));
  }
  CronExpression cron;
  const std::array<std::pair<const FieldSpec*, std::uint64_t*>, 5> targets{{
      {&k_minute, &cron.m_minutes},
      {&k_hour, &cron.m_hours},
      {&k_day_of_month, &cron.m_days_of_month},
      {&k_month, &cron.m_months},
      {&k_day_of_week, &cron.m_days_of_week},
  }};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const Expected<std::uint64_t> bits = FieldParser(*targets[i].first, fields[i]).parse();
    if (!bits) {
      return std::unexpected(bits.error());
    }
    *targets[i].second = *bits;
  }
  cron.m_text = std::string(text);
  cron.m_day_of_month_restricted = fields[2] != "*";
  cron.m_day_of_week_restricted = fields[4] != "*";
  // cronie's rule for which jobs follow elapsed time across a DST change.
  cron.m_follows_elapsed_time = fields[0].starts_with('*') || fields[1].starts_with('*');
  return cron;
}

bool CronExpression::fires_ever() const {
  // Every month holds every weekday, so only a day-of-month restriction on its
  // own can name impossible dates.
  if (!m_day_of_month_restricted || m_day_of_week_restricted) {
    return true;
  }
  for (unsigned month = 1; month <= 12; ++month) {
    for (unsigned day = 1; has_bit(m_months, month) && day <= k_max_days_in_month[month]; ++day) {
      if (has_bit(m_days_of_month, day)) {
        return true;
      }
    }
  }
  return false;
}

bool CronExpression::matches_day(unsigned day_of_month, unsigned weekday) const {
  const bool by_day_of_month = has_bit(m_days_of_month, day_of_month);
  const bool by_day_of_week = has_bit(m_days_of_week, weekday);
  if (m_day_of_month_restricted && m_day_of_week_restricted) {
    return by_day_of_month || by_day_of_week;
  }
  return by_day_of_month && by_day_of_week;
}

std::optional<seconds> CronExpression::next_matching_wall_clock(seconds from, seconds limit) const {
  const date::local_seconds start{std::chrono::ceil<minutes>(from)};
  date::local_days day = std::chrono::floor<days>(start);
  const seconds time_of_day = start - day;
  int first_hour = static_cast<int>(time_of_day / hours{1});
  int first_minute = static_cast<int>((time_of_day % hours{1}) / minutes{1});
  while (date::local_seconds{day} < date::local_seconds{limit}) {
    const date::year_month_day ymd{day};
    if (!has_bit(m_months, static_cast<unsigned>(ymd.month()))) {
      day = date::local_days{(ymd.year() / ymd.month() + date::months{1}) / 1};
      first_hour = first_minute = 0;
      continue;
    }
    if (matches_day(static_cast<unsigned>(ymd.day()), date::weekday{day}.c_encoding())) {
      for (int hour = next_bit(m_hours, first_hour); hour >= 0;
           hour = next_bit(m_hours, hour + 1)) {
        const int minute = next_bit(m_minutes, hour == first_hour ? first_minute : 0);
        if (minute >= 0) {
          const seconds wall = (day + hours{hour} + minutes{minute}).time_since_epoch();
          return wall < limit ? std::optional(wall) : std::nullopt;
        }
      }
    }
    day += days{1};
    first_hour = first_minute = 0;
  }
  return std::nullopt;
}

Instant CronExpression::next_after(Instant after, const TimeZone* zone) const {
  if (!fires_ever() || after < k_earliest_supported || after > k_latest_supported) {
    return Instant::max();
  }
  const Instant horizon = after + k_search_horizon;
  // Walk the zone's periods of constant UTC offset; within one, wall clock and
  // instant differ by a fixed amount, so the search is a calendar search.
  Instant t = after + seconds{1};
  while (t < horizon) {
    const date::sys_info period = zone->get_info(t);
    seconds from = t.time_since_epoch() + period.offset;
    if (!m_follows_elapsed_time && period.begin >= t - days{2}) {
      const date::sys_info previous = zone->get_info(period.begin - seconds{1});
      const seconds previous_wall_end = period.begin.time_since_epoch() + previous.offset;
      const seconds wall_start = period.begin.time_since_epoch() + period.offset;
      if (previous.offset > period.offset) {
        // Fall-back: wall times before previous_wall_end already fired once.
        from = std::max(from, previous_wall_end);
      } else if (previous.offset < period.offset && t == period.begin &&
                 next_matching_wall_clock(previous_wall_end, wall_start)) {
        // Spring-forward: a skipped wall time fires as the clock jumps.
        return period.begin;
      }
    }
    const Instant period_end = std::min(period.end, horizon);
    const std::optional<seconds> wall =
        next_matching_wall_clock(from, period_end.time_since_epoch() + period.offset);
    if (wall) {
      return Instant{*wall - period.offset};
    }
    t = period_end;
  }
  return Instant::max();
}

}  // namespace gapwatch
