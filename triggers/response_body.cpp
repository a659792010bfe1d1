#include "triggers/response_body.h"

#include <fmt/format.h>

namespace gapwatch {

namespace {

constexpr std::size_t kLongestMessage = 500;

std::string shorten(std::string text) {
  if (text.size() > kLongestMessage) {
    text.resize(kLongestMessage);
    text += "…";
  }
  return text;
}

std::string compact(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One entry of a pydantic/FastAPI validation list: "body.foo: Extra inputs are not permitted".
std::string validation_entry(const nlohmann::json& entry) {
  if (!entry.is_object() || !entry.contains("msg") || !entry["msg"].is_string()) {
    return compact(entry);
  }
  std::string location;
  if (entry.contains("loc") && entry["loc"].is_array()) {
    for (const auto& part : entry["loc"]) {
      if (!location.empty()) {
        location += '.';
      }
      location += part.is_string() ? part.get<std::string>() : compact(part);
    }
  }
  const std::string message = entry["msg"].get<std::string>();
  return location.empty() ? message : fmt::format("{}: {}", location, message);
}

std::string message_of(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_array()) {
    std::string joined;
    for (const auto& entry : value) {
      if (!joined.empty()) {
        joined += "; ";
      }
      joined += validation_entry(entry);
    }
    return joined;
  }
  if (value.is_object()) {
    for (const char* key : {"reason", "message"}) {
      if (value.contains(key) && value[key].is_string()) {
        return value[key].get<std::string>();
      }
    }
  }
  return value.is_null() ? std::string() : compact(value);
}

}  // namespace

nlohmann::json parse_json_body(std::string_view body) {
  return nlohmann::json::parse(body, nullptr, false);
}

std::string error_message(std::string_view body) {
  const nlohmann::json document = parse_json_body(body);
  if (!document.is_object()) {
    return {};
  }
  // Azure: {"error": {"code": "...", "message": "..."}}; OAuth2: {"error":
  // "invalid_client", "error_description": "..."}.
  if (document.contains("error_description") && document["error_description"].is_string()) {
    const std::string code = document.contains("error") && document["error"].is_string()
                                 ? document["error"].get<std::string>()
                                 : std::string();
    const std::string description = document["error_description"].get<std::string>();
    return shorten(code.empty() ? description : fmt::format("{}: {}", code, description));
  }
  if (document.contains("error") && document["error"].is_object()) {
    const auto& error = document["error"];
    const std::string code =
        error.contains("code") && error["code"].is_string() ? error["code"].get<std::string>() : "";
    const std::string message = message_of(error);
    return shorten(code.empty() ? message : fmt::format("{}: {}", code, message));
  }
  for (const char* key : {"detail", "exception_detail", "message", "error"}) {
    if (document.contains(key) && !document[key].is_null()) {
      return shorten(message_of(document[key]));
    }
  }
  return {};
}

std::string string_member(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) {
    return {};
  }
  const auto found = object.find(name);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

}  // namespace gapwatch
