// PresetRequest: the HTTP request an orchestrator preset makes for one
// backfill request, and the helpers the presets share to build it: URLs whose
// templated path segments are percent-encoded one by one, and JSON bodies
// built as values (never by pasting text). Pure; thread-safe.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/error.h"
#include "triggers/backfill_request.h"
#include "triggers/json_template.h"
#include "triggers/template.h"

namespace gapwatch {

struct PresetRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the executor's own
  nlohmann::json body;
};

// `base` (no trailing '/') followed by each segment, percent-encoded, so a
// value cannot add a path segment or a query.
std::string join_url(std::string_view base, std::initializer_list<std::string_view> segments);

// A template as one value; an empty result is an error naming `what` (an empty
// path segment or id would address something else).
Expected<std::string> expand_required(const Template& value, const TemplateValues& values,
                                      std::string_view what);

// `shape` expanded, or `fallback` when there is none.
Expected<nlohmann::json> expand_or(const std::optional<JsonTemplate>& shape,
                                   const TemplateValues& values, nlohmann::json fallback);

// The window of a request as a JSON object: rule, table, window_start,
// window_end, request_id, and a segment's `segment` object (segment_json)
// (what an Airflow DAG's conf gets by default).
nlohmann::json window_description(const BackfillRequest& request);

// {window_start, window_end}: the default parameters of systems that check
// parameters against a declared schema (Prefect, Azure Data Factory); a
// request for a segment adds its `segment` object.
nlohmann::json window_parameters(const BackfillRequest& request);

}  // namespace gapwatch
