#include "triggers/backfill_request.h"

#include <openssl/evp.h>

#include <array>

#include <fmt/format.h>

namespace gapwatch {

std::string make_request_id(std::string_view rule, Instant window_start, Instant window_end,
                            int attempt) {
  const std::string input =
      fmt::format("{}\n{}\n{}\n{}", rule, window_start.time_since_epoch().count(),
                  window_end.time_since_epoch().count(), attempt);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < 16 && i < length; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
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
  for (const auto& [name, value] : params) {
    values.emplace(name, value);
  }
  return values;
}

}  // namespace gapwatch
