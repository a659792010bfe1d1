// Reading the JSON bodies that HTTP APIs answer with: the parsed value, and the
// human-readable message of an error in the shapes the supported systems use
// (Airflow's "detail", FastAPI/pydantic validation lists, OAuth2's
// "error_description", Azure's {"error": {"code", "message"}}, Prefect's
// "exception_detail", plain "message"). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gapwatch {

// The body as JSON, or a discarded value when it is not JSON.
nlohmann::json parse_json_body(std::string_view body);

// The member `name` of `object` when it is a string; empty otherwise (an
// answer missing a field and one with a field of another type read alike).
std::string string_member(const nlohmann::json& object, std::string_view name);

// The error message in `body`, at most a few hundred characters; empty when
// the body carries none.
std::string error_message(std::string_view body);

}  // namespace gapwatch
