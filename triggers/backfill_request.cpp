#include "triggers/backfill_request.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace gapwatch {

std::string make_request_id(std::string_view rule, const SegmentKey& segment, Instant window_start,
                            Instant window_end, int attempt) {
  std::string input = fmt::format("{}\n{}\n{}\n{}", rule, window_start.time_since_epoch().count(),
                                  window_end.time_since_epoch().count(), attempt);
  // Rule names have no line break and the attempt is a number, so what
  // follows cannot be read as a whole-table input. Each value is "s<length>:"
  // and its bytes, NULL is "n": ("a", "b") and ("a, b"), NULL and "null"
  // differ.
  if (!segment.empty()) {
    input += fmt::format("\nsegment {}", segment.size());
    for (const SegmentValue& value : segment) {
      input += value ? fmt::format("\ns{}:{}", value->size(), *value) : std::string("\nn");
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < 16 && i < length; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

std::vector<SegmentColumn> segment_columns(const std::vector<std::string>& columns,
                                           const SegmentKey& segment) {
  std::vector<SegmentColumn> named;
  if (segment.size() != columns.size()) {
    return named;
  }
  for (std::size_t i = 0; i < segment.size(); ++i) {
    named.push_back(SegmentColumn{columns[i], segment[i]});
  }
  return named;
}

nlohmann::json segment_json(const std::vector<SegmentColumn>& segment) {
  if (segment.empty()) {
    return nullptr;
  }
  nlohmann::json object = nlohmann::json::object();
  for (const SegmentColumn& part : segment) {
    object[part.column] = part.value ? nlohmann::json(*part.value) : nlohmann::json(nullptr);
  }
  return object;
}

TemplateValues request_values(const RuleSpec& spec,
                              const std::map<std::string, std::string>& params,
                              const BackfillRequest& request) {
  const TimeZone* zone = spec.partition ? spec.partition->zone : utc_zone();
  TemplateValues values{
      {"rule", spec.name},
      {"warehouse", spec.warehouse},
      {"table", spec.table.display()},
      {"check", std::string(to_string(spec.check))},
      {"severity", std::string(to_string(spec.severity))},
      {"window_start", format_rfc3339(request.window_start)},
      {"window_end", format_rfc3339(request.window_end)},
      {"window_start_date", format_local_date(request.window_start, zone)},
      {"window_end_date", format_local_date(request.window_end, zone)},
      {"window_start_epoch", std::to_string(request.window_start.time_since_epoch().count())},
      {"window_end_epoch", std::to_string(request.window_end.time_since_epoch().count())},
      {"request_id", request.id},
      {"incident_id", std::to_string(request.incident_id)},
      {"attempt", std::to_string(request.attempt)},
  };
  if (!spec.segment_by.empty()) {
    // A whole-table request of a segmented rule (a manual backfill) has
    // every segment variable, empty.
    SegmentKey key;
    for (const SegmentColumn& part : request.segment) {
      key.push_back(part.value);
    }
    values.emplace(std::string(kSegmentVariable), segment_name(key));
    for (const std::string& column : spec.segment_by) {
      const auto part =
          std::find_if(request.segment.begin(), request.segment.end(),
                       [&](const SegmentColumn& named) { return named.column == column; });
      values.emplace(segment_variable(column), part == request.segment.end()
                                                   ? std::string()
                                                   : std::string(segment_value_name(part->value)));
    }
  }
  for (const auto& [name, value] : params) {
    values.emplace(name, value);
  }
  return values;
}

}  // namespace gapwatch
