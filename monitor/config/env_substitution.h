// ${VAR} and ${VAR:-default} substitution in configuration values. "$$" stands
// for a literal "$". The environment is injected so tests need not touch the
// process environment. Pure; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rules/error.h"

namespace gapwatch {

using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment (getenv).
EnvironmentLookup process_environment();

// Substitutes every ${NAME} / ${NAME:-default}; an unset NAME without a
// default, or a malformed reference, is an error naming it.
Expected<std::string> substitute_environment(std::string_view text,
                                             const EnvironmentLookup& lookup);

}  // namespace gapwatch
