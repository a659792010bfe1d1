#!/usr/bin/env bash
# The quickstart's "loader": reloads one window of a table from its archive
# copy, as a real pipeline would re-run a partition. gapwatch runs it without a
# shell in between: each argument arrives as one argv element.
# Usage: backfill.sh TABLE WINDOW_START WINDOW_END   (times in RFC 3339 UTC)
set -euo pipefail

table=$1 start=$2 end=$3
[[ $table =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "backfill.sh: bad table name" >&2; exit 2; }
time_format='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
[[ $start =~ $time_format && $end =~ $time_format ]] || { echo "backfill.sh: bad window" >&2; exit 2; }
db=${GAPWATCH_QUICKSTART_DB:?GAPWATCH_QUICKSTART_DB is not set}

rows=$(sqlite3 "$db" <<SQL
.timeout 30000
BEGIN IMMEDIATE;
DELETE FROM $table WHERE event_time >= datetime('$start') AND event_time < datetime('$end');
INSERT INTO $table SELECT * FROM archive_$table
  WHERE event_time >= datetime('$start') AND event_time < datetime('$end');
SELECT changes();
COMMIT;
SQL
)
echo "backfill.sh: reloaded $rows row(s) of $table for $start .. $end (request ${GAPWATCH_REQUEST_ID:-none})"
