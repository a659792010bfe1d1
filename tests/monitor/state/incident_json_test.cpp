#include "monitor/state/incident_json.h"

#include <doctest/doctest.h>

#include "tests/monitor/state/state_support.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;

TEST_CASE("incident json: resolution is null while active and says how it ended") {
  Incident incident;
  incident.id = 3;
  incident.rule = "orders";
  incident.opened_at = at("2026-03-02T10:00:00Z");
  incident.updated_at = incident.opened_at;
  CHECK(incident_json(incident)["resolution"].is_null());
  incident.state = IncidentState::resolved;
  for (const auto& [resolution, text] :
       {std::pair{Resolution::healed, "healed"}, std::pair{Resolution::by_operator, "operator"},
        std::pair{Resolution::rule_removed, "rule_removed"}}) {
    incident.resolution = resolution;
    CHECK(incident_json(incident)["resolution"] == text);
    CHECK(resolution_from(text) == resolution);
  }
  CHECK_FALSE(resolution_from("fixed").has_value());
}

}  // namespace
}  // namespace gapwatch
