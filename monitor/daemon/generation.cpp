#include "monitor/daemon/generation.h"

#include <utility>

namespace gapwatch {

Generation::Generation(Config loaded, StateStore& store, QueryWatchdog& watchdog,
                       const Clock& clock, Dispatcher::Listener on_report,
                       RunTracker::Listener on_run)
    : config(std::move(loaded)),
      warehouses(config, watchdog),
      evaluator(warehouses, clock),
      incidents(store, clock, delivery_of(config.monitor)),
      dispatcher(config, store, incidents, clock, make_executors(config, clock),
                 std::move(on_report)),
      runs(config, store, incidents, clock, dispatcher, std::move(on_run)),
      scheduler(config.rules, clock.now()) {}

std::optional<std::size_t> Generation::rule_index(const std::string& name) const {
  for (std::size_t i = 0; i < config.rules.size(); ++i) {
    if (config.rules[i].spec.name == name) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace gapwatch
