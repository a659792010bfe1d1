// The HTML status page at /: rules grouped by status, failing first, with
// what was observed and when (and a segmented rule's failing segments); open
// incidents with their windows and backfill attempts, a segment's window
// named by its segment; links to the JSON. Server-rendered, no JavaScript.
// Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "monitor/state/state_store.h"
#include "monitor/http/status_board.h"

namespace gapwatch {

std::string render_status_page(const std::vector<RuleStatus>& rules,
                               const std::vector<Incident>& incidents,
                               const std::map<std::int64_t, std::vector<RequestRecord>>& requests,
                               Instant now);

std::string html_escape(std::string_view text);

}  // namespace gapwatch
