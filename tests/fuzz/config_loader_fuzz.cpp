// Fuzz target: YAML text → load_config_text, with an environment in which no
// variable is set. Whatever the text, loading returns a Config or a list of
// errors, never throws or crashes; every error has a message and a 1-based
// line and column; a loaded Config only refers to things it defines.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "monitor/config/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::optional<std::string> no_variable(const std::string&) { return std::nullopt; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gapwatch;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ConfigResult result = load_config_text(text, "fuzz.yaml", no_variable);
  if (!result) {
    FUZZ_CHECK(!result.error().empty());
    for (const ConfigError& error : result.error()) {
      FUZZ_CHECK(!error.message.empty());
      FUZZ_CHECK(error.location.line >= 1);
      FUZZ_CHECK(error.location.column >= 1);
      FUZZ_CHECK(error.location.file == "fuzz.yaml");
    }
    return 0;
  }
  const Config& config = *result;
  FUZZ_CHECK(!config.warehouses.empty());
  for (const WarehouseConfig& warehouse : config.warehouses) {
    FUZZ_CHECK(warehouse.zone != nullptr);
    FUZZ_CHECK(warehouse.query_timeout.count() > 0);
  }
  for (const RuleConfig& rule : config.rules) {
    FUZZ_CHECK(config.find_warehouse(rule.spec.warehouse) != nullptr);
    FUZZ_CHECK(rule.schedule.zone != nullptr);
    if (rule.backfill) {
      FUZZ_CHECK(config.find_executor(rule.backfill->executor) != nullptr);
    }
    if (const auto* cron = std::get_if<CronExpression>(&rule.schedule.when)) {
      FUZZ_CHECK(cron->fires_ever());
    } else {
      FUZZ_CHECK(std::get<std::chrono::seconds>(rule.schedule.when).count() > 0);
    }
    if (rule.spec.partition) {
      FUZZ_CHECK(rule.spec.partition->lookback >= rule.spec.partition->every);
    }
  }
  return 0;
}
