#include "monitor/cli/report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rules/segment.h"

namespace gapwatch {

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

std::string render_json(const std::vector<RuleResult>& results, Instant evaluated_at) {
  nlohmann::json items = nlohmann::json::array();
  for (const RuleResult& result : results) {
    items.push_back(result_to_json(result));
  }
  // Members are moved in, not copied through an initializer list: a
  // segmented rule's results hold hundreds of thousands of buckets.
  nlohmann::json document = nlohmann::json::object();
  document["evaluated_at"] = format_rfc3339(evaluated_at);
  document["results"] = std::move(items);
  // Driver messages and labels may hold bytes that are not UTF-8.
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_text(const std::vector<RuleResult>& results) {
  std::size_t name_width = 4;
  for (const RuleResult& result : results) {
    name_width = std::max(name_width, result.rule.size());
  }
  std::string out;
  std::array<int, 4> counts{};
  for (const RuleResult& result : results) {
    const Verdict& verdict = result.verdict;
    ++counts[static_cast<std::size_t>(verdict.status)];
    out += fmt::format("{:<5}  {:<{}}  {:<9}  {}.{}  {}\n", upper(to_string(verdict.status)),
                       result.rule, name_width, to_string(result.check), result.warehouse,
                       result.table, verdict.message);
    for (const Window& window : verdict.windows) {
      // A segment's window says whose it is: "FR: 2026-03-02T11:00:00Z .. …".
      const std::string segment =
          window.segment.empty() ? std::string() : segment_name(window.segment) + ": ";
      out += fmt::format("{:<5}  {:<{}}  window {}{} .. {} ({})\n", "", "", name_width, segment,
                         format_rfc3339(window.start), format_rfc3339(window.end),
                         to_string(window.status));
    }
  }
  out += fmt::format("{} rule(s): {} pass, {} warn, {} fail, {} error\n", results.size(),
                     counts[0], counts[1], counts[2], counts[3]);
  return out;
}

int check_exit_code(const std::vector<RuleResult>& results) {
  Status worst = Status::pass;
  for (const RuleResult& result : results) {
    worst = worse(worst, result.verdict.status);
  }
  switch (worst) {
    case Status::error:
      return 3;
    case Status::fail:
      return 2;
    case Status::warn:
      return 1;
    case Status::pass:
      return 0;
  }
  return 3;
}

}  // namespace gapwatch
