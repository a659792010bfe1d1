// ${VAR} and ${VAR:-default} substitution in configuration values. "$$" stands
// for a literal "$". The environment is injected so tests need not touch the
// process environment. What the environment supplied is reported, because
// every such value is treated as a secret (docs/security.md). Pure;
// thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/error.h"

namespace gapwatch {

using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment (getenv).
EnvironmentLookup process_environment();

// A value a ${NAME} took from the environment (a default is not one: it is
// written in the configuration).
struct EnvironmentValue {
  std::string name;   // NAME
  std::string value;  // what it was replaced by
  std::string path;   // the configuration key it went into, e.g. executors[1].command.env.TOKEN
};

// Substitutes every ${NAME} / ${NAME:-default}; an unset NAME without a
// default, or a malformed reference, is an error naming it.
Expected<std::string> substitute_environment(std::string_view text,
                                             const EnvironmentLookup& lookup);

// The same, appending to `taken` each value taken from the environment
// (`path` left empty for the caller to fill).
Expected<std::string> substitute_environment(std::string_view text,
                                             const EnvironmentLookup& lookup,
                                             std::vector<EnvironmentValue>& taken);

}  // namespace gapwatch
