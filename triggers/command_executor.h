// CommandExecutor: runs a command per request with posix_spawn — no shell, so
// template values reach the program as single argv elements whatever they
// contain. The child gets its own process group, a small environment (PATH,
// HOME, LANG, the configured env and GAPWATCH_* variables describing the
// request), stdin from /dev/null and stdout+stderr captured (bounded). On
// timeout or shutdown the group gets SIGTERM, then SIGKILL after a grace
// period. Thread-safe.
#pragma once

#include "triggers/executor.h"

namespace gapwatch {

class CommandExecutor final : public Executor {
 public:
  explicit CommandExecutor(CommandSpec spec) : m_spec(std::move(spec)) {}
  DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) override;

  // How long a child may take to exit after SIGTERM.
  static constexpr std::chrono::seconds kGracePeriod{5};

 private:
  const CommandSpec m_spec;
};

}  // namespace gapwatch
