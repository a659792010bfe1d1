#include "triggers/preset_request.h"

#include <fmt/format.h>

namespace gapwatch {

namespace {

std::string value_or_empty(const TemplateValues& values, std::string_view name) {
  const auto found = values.find(name);
  return found == values.end() ? std::string() : found->second;
}

}  // namespace

std::string join_url(std::string_view base, std::initializer_list<std::string_view> segments) {
  std::string url(base);
  for (const std::string_view segment : segments) {
    url += '/';
    url += percent_encode(segment);
  }
  return url;
}

Expected<std::string> expand_required(const Template& value, const TemplateValues& values,
                                      std::string_view what) {
  auto text = value.expand(values, Template::Encoding::raw);
  if (!text) {
    return text;
  }
  if (text->empty()) {
    return fail(fmt::format("{} '{}' expanded to an empty value", what, value.text()));
  }
  return text;
}

Expected<nlohmann::json> expand_or(const std::optional<JsonTemplate>& shape,
                                   const TemplateValues& values, nlohmann::json fallback) {
  if (!shape) {
    return fallback;
  }
  return expand_json(*shape, values);
}

nlohmann::json window_description(const BackfillRequest& request) {
  nlohmann::json description{{"rule", request.rule},
                             {"table", value_or_empty(request.values, "table")},
                             {"window_start", format_rfc3339(request.window_start)},
                             {"window_end", format_rfc3339(request.window_end)},
                             {"request_id", request.id}};
  if (!request.segment.empty()) {
    description["segment"] = segment_json(request.segment);
  }
  return description;
}

nlohmann::json window_parameters(const BackfillRequest& request) {
  nlohmann::json parameters{{"window_start", format_rfc3339(request.window_start)},
                            {"window_end", format_rfc3339(request.window_end)}};
  if (!request.segment.empty()) {
    parameters["segment"] = segment_json(request.segment);
  }
  return parameters;
}

}  // namespace gapwatch
