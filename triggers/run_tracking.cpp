#include "triggers/run_tracking.h"

#include <array>
#include <utility>

namespace gapwatch {

namespace {

constexpr std::array<std::pair<RunState, std::string_view>, 4> kNames{{
    {RunState::queued, "queued"},
    {RunState::running, "running"},
    {RunState::succeeded, "succeeded"},
    {RunState::failed, "failed"},
}};

}  // namespace

std::string_view to_string(RunState state) {
  for (const auto& [value, name] : kNames) {
    if (value == state) {
      return name;
    }
  }
  return "unknown";
}

std::optional<RunState> run_state_from(std::string_view text) {
  for (const auto& [value, name] : kNames) {
    if (name == text) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace gapwatch
