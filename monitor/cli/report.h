// Rendering rule results for people (text) and programs (JSON), and the exit
// code of `gapwatch check`. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "monitor/warehouse/rule_result.h"

namespace gapwatch {

std::string render_json(const std::vector<RuleResult>& results, Instant evaluated_at);
std::string render_text(const std::vector<RuleResult>& results);

// 3 if any rule errored, else 2 if any failed, else 1 if any warned, else 0.
int check_exit_code(const std::vector<RuleResult>& results);

}  // namespace gapwatch
