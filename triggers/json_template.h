// JsonTemplate: a JSON value whose string leaves are templates, as written in
// a webhook body or a preset's conf/parameters. Expanding it builds JSON
// values: a template value always lands inside one JSON string, whatever it
// holds. Immutable; thread-safe.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "rules/error.h"
#include "triggers/template.h"

namespace gapwatch {

struct JsonTemplate {
  nlohmann::json shape;  // string leaves hold template text
};

// Expands every string leaf of `body` with `values` (as JSON strings). Fails,
// without throwing, on a value that is not valid UTF-8.
Expected<nlohmann::json> expand_json(const JsonTemplate& body, const TemplateValues& values);

// Adds every variable the string leaves of `shape` use to `names`.
void collect_json_variables(const nlohmann::json& shape, std::set<std::string>& names);

// `value` serialised, or an error instead of nlohmann's exception when a
// string in it is not valid UTF-8.
Expected<std::string> dump_json(const nlohmann::json& value);

}  // namespace gapwatch
