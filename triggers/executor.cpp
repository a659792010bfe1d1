#include "triggers/executor.h"

#include "triggers/command_executor.h"
#include "triggers/webhook_executor.h"

namespace gapwatch {

std::string_view to_string(DispatchOutcome::Kind kind) {
  switch (kind) {
    case DispatchOutcome::Kind::ran:
      return "ran";
    case DispatchOutcome::Kind::accepted:
      return "accepted";
    case DispatchOutcome::Kind::retry:
      return "retry";
    case DispatchOutcome::Kind::rejected:
      return "rejected";
  }
  return "?";
}

std::unique_ptr<Executor> make_executor(const ExecutorSpec& spec, const Clock& clock,
                                        const RunDirectory& runs) {
  if (const auto* command = std::get_if<CommandSpec>(&spec.kind)) {
    return std::make_unique<CommandExecutor>(*command, runs);
  }
  return std::make_unique<WebhookExecutor>(std::get<WebhookSpec>(spec.kind), clock);
}

}  // namespace gapwatch
