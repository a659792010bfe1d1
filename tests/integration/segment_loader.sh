#!/usr/bin/env bash
# A loader that reloads one segment of one window: the events of one kind
# between two instants, from their archive copy, as a pipeline that can
# re-run a single partition of a single source would. gapwatch passes each
# value as one argv element, no shell in between.
# Usage: segment_loader.sh DB KIND WINDOW_START WINDOW_END
set -euo pipefail
db=$1 kind=$2 start=$3 end=$4
time_format='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
[[ $start =~ $time_format && $end =~ $time_format ]] || { echo "segment_loader.sh: bad window" >&2; exit 2; }
# The kind is data: it reaches SQL as a bound parameter of sqlite3's .param.
rows=$(sqlite3 "$db" <<SQL
.timeout 30000
.param set :kind '$(printf '%s' "$kind" | sed "s/'/''/g")'
BEGIN IMMEDIATE;
INSERT INTO events SELECT * FROM archive_events a
  WHERE a.kind = :kind AND a.event_time >= datetime('$start') AND a.event_time < datetime('$end')
    AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = a.id);
SELECT changes();
COMMIT;
SQL
)
echo "segment_loader.sh: reloaded $rows row(s) of kind $kind for $start .. $end"
