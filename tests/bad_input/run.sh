#!/usr/bin/env bash
# The bad-input catalogue: every case here is a configuration gapwatch must
# refuse. For each one, `validate`, `check` and `run` must all exit 4 within
# 10 s, without a crash (signal, "terminate called", sanitizer report), with
# the expected first error line `FILE:line:col: error: message`, and without
# creating anything (no state database) in their working directory.
#
# A case is NNN-name.yaml with a header comment
#   # expect: LINE:COL: REGEX       the first stderr line; REGEX (bash ERE) must
#                                   match the start of the message after "error: "
#   # expect-errors: N              optional: exactly N error lines
# or, for files that cannot carry a comment (empty, binary) or are made at
# test time (huge, deeply nested, a directory, a symlink loop, ...), a sidecar
# NNN-name.expect with the same fields without '#', and `generate: KIND`.
#
# Usage: tests/bad_input/run.sh [--big | --small] [--shard K/N] [CASE-NAME-SUBSTRING...]
#   --big        only the big generated cases (megabytes of YAML, nesting
#                100000 deep: seconds of CPU per command against the 10 s limit)
#   --small      only the others
#   --shard K/N  only the K-th of N consecutive slices of the cases selected
#                so far (and the controls when K is 1, unless --big)
# ctest runs the big cases alone and the small ones in shards side by side
# (tests/CMakeLists.txt), every case exactly once.
# GAPWATCH_BINARY: the binary (default: build/gapwatch in the source tree).
set -uo pipefail

size=all shard=1 shards=1
while (($# > 0)); do
  case $1 in
    --big) size=big; shift ;;
    --small) size=small; shift ;;
    --shard)
      if ! [[ ${2:-} =~ ^([0-9]+)/([0-9]+)$ ]] ||
          ((BASH_REMATCH[1] < 1 || BASH_REMATCH[1] > BASH_REMATCH[2])); then
        echo "bad_input: --shard K/N needs 1 <= K <= N, not '${2:-}'" >&2
        exit 2
      fi
      shard=${BASH_REMATCH[1]} shards=${BASH_REMATCH[2]}
      shift 2
      ;;
    -*) echo "bad_input: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gapwatch=${GAPWATCH_BINARY:-$here/../../build/gapwatch}
if [[ ! -x $gapwatch ]]; then
  echo "bad_input: no gapwatch binary at $gapwatch (set GAPWATCH_BINARY)" >&2
  exit 2
fi
gapwatch=$(realpath "$gapwatch")
readonly time_limit=10

scratch=$(mktemp -d)
trap 'chmod -R u+rwX "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
# The unset-variable case relies on this one being unset.
unset GAPWATCH_BAD_INPUT_UNSET

# A valid configuration, the start of several generated cases. Relative paths
# land in the case's (otherwise empty) working directory.
valid_config() {
  cat <<'YAML'
version: 1
monitor:
  state: gapwatch-state.db
  listen: "off"
warehouses:
  - name: local
    connection: "Driver=SQLite3;Database=warehouse.db"
rules:
  - name: events_hourly
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 2d}
    fail: {min: 10}
YAML
}

# generate KIND DIRECTORY: makes the case in DIRECTORY and prints its path.
generate() {
  local kind=$1 dir=$2 path=$2/config.yaml
  case $kind in
    huge-file)  # a valid config padded with one comment to 16 MiB + 1 byte
      valid_config >"$path"
      printf '# ' >>"$path"
      head -c $((16 * 1024 * 1024 + 1 - $(stat -c %s "$path"))) /dev/zero | tr '\0' x >>"$path"
      ;;
    junk-keys)  # a valid config, then 100000 unknown top-level keys: about 5 MiB
      { valid_config
        awk 'BEGIN { for (i = 0; i < 100000; i++)
                       printf "junk_key_%06d: padding to make five mebibytes of YAML\n", i }'
      } >"$path"
      ;;
    deep-flow-sequences)  # [[[[... 100000 deep
      awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["; print "" }' >"$path"
      ;;
    deep-flow-mappings)  # {a: {a: {a: ... 100000 deep
      awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{a: "; print "" }' >"$path"
      ;;
    deep-block-sequences)  # - - - - ... 100000 deep on one line
      awk 'BEGIN { for (i = 0; i < 100000; i++) printf "- "; print "x" }' >"$path"
      ;;
    deep-block-mappings)  # a mapping per line, each indented one more: 3000 deep
      awk 'BEGIN { print "version: 1"; for (i = 0; i < 3000; i++) printf "%*sa:\n", i, "" }' \
        >"$path"
      ;;
    many-labels)  # 100000 labels on one rule, the last a duplicate of an early one
      { valid_config
        echo "    labels:"
        awk 'BEGIN { for (i = 0; i < 100000; i++) printf "      label_%06d: x\n", i
                     print "      label_000005: y" }'
      } >"$path"
      ;;
    directory) mkdir "$path" ;;
    missing-file) ;;
    symlink-loop) ln -s loop.yaml "$path" && ln -s config.yaml "$dir/loop.yaml" ;;
    fifo) mkfifo "$path" ;;
    unreadable) valid_config >"$path" && chmod 000 "$path" ;;
    *) echo "unknown generate kind '$kind'" >&2; return 1 ;;
  esac
  echo "$path"
}

# The generated kinds that take seconds of CPU per command (run.sh --big).
declare -A big_kinds=([huge-file]=1 [junk-keys]=1 [deep-flow-sequences]=1 [deep-flow-mappings]=1
                      [deep-block-sequences]=1 [deep-block-mappings]=1 [many-labels]=1)

# field NAME FILE: the value of "NAME: value" in a sidecar, or of
# "# NAME: value" in a case's leading comment block.
field() {
  local name=$1 file=$2 line
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line#$'\xef\xbb\xbf'}
    line=${line%$'\r'}
    if [[ $file == *.yaml ]]; then
      [[ $line == \#* ]] || break
      line=${line#\#}
      line=${line# }
    fi
    if [[ $line == "$name: "* ]]; then
      printf '%s\n' "${line#"$name: "}"
      return 0
    fi
  done <"$file"
  return 1
}

passed=0 failed=0
declare -a failures=()

# run_command OUT ARGS...: gapwatch ARGS under the time limit; OUT.stdout,
# OUT.stderr, OUT.status and OUT.ms (wall time) record what happened.
run_command() {
  local out=$1; shift
  local start end
  start=$(date +%s%N)
  timeout --kill-after=2 "$time_limit" "${as_user[@]}" "$gapwatch" "$@" >"$out.stdout" 2>"$out.stderr"
  echo $? >"$out.status"
  end=$(date +%s%N)
  echo $(((end - start) / 1000000)) >"$out.ms"
}

check_case() {
  local name=$1 case_file=$2 expect_file=$3
  local problems=() generate_kind path case_dir workdir
  local as_user=() gapwatch=$gapwatch  # changed for a case run as another user
  case_dir=$scratch/$name/case
  workdir=$scratch/$name/cwd
  mkdir -p "$case_dir" "$workdir"

  local expect count
  expect=$(field expect "$expect_file") || { echo "FAIL $name: no expect line"; return 1; }
  count=$(field expect-errors "$expect_file") || count=
  if generate_kind=$(field generate "$expect_file"); then
    if [[ $generate_kind == unreadable && $EUID -eq 0 ]]; then
      # Root reads a chmod 000 file anyway: run this case's commands as
      # nobody, from a copy of the binary nobody can reach, in directories
      # nobody may enter.
      if [[ ! -x $scratch/nobody/gapwatch ]]; then
        mkdir -p "$scratch/nobody" && cp "$gapwatch" "$scratch/nobody/gapwatch"
      fi
      gapwatch=$scratch/nobody/gapwatch
      as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
      chmod 711 "$scratch" "$scratch/nobody" "$scratch/$name" "$case_dir"
      chmod 777 "$workdir"
    fi
    path=$(generate "$generate_kind" "$case_dir") || { echo "FAIL $name: cannot generate"; return 1; }
  else
    path=$case_file
  fi
  local want_location=${expect%%: *} want_regex=${expect#*: }
  local before_case
  before_case=$(ls -A "$(dirname "$path")")

  local command label out slowest=0
  for command in validate check run; do
    out=$scratch/$name/$command
    case $command in
      run) (cd "$workdir" && run_command "$out" run -c "$path" --until-healthy --max-runtime 2) ;;
      *) (cd "$workdir" && run_command "$out" "$command" -c "$path") ;;
    esac
    local status ms
    status=$(<"$out.status")
    ms=$(<"$out.ms")
    ((ms > slowest)) && slowest=$ms
    label="$command"
    if ((status == 124 || status == 137)); then
      problems+=("$label: did not finish within ${time_limit}s")
    elif ((status > 128)); then
      problems+=("$label: killed by signal $((status - 128))")
    elif ((status != 4)); then
      problems+=("$label: exit $status, want 4")
    fi
    if grep -qaE 'terminate called|AddressSanitizer|LeakSanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|core dumped' \
        "$out.stderr" "$out.stdout"; then
      problems+=("$label: crash report in output")
    fi
    local first
    first=$(head -n 1 "$out.stderr" | tr -d '\0')
    local prefix="$path:$want_location: error: "
    if [[ $first != "$prefix"* ]]; then
      problems+=("$label: first line is not '$prefix…': ${first:0:300}")
    elif ! [[ ${first#"$prefix"} =~ ^($want_regex) ]]; then
      problems+=("$label: message does not match /$want_regex/: ${first#"$prefix"}")
    fi
    if [[ -n $count ]]; then
      local errors
      errors=$(grep -acE "^.+:[0-9]+:[0-9]+: error: " "$out.stderr")
      ((errors == count)) || problems+=("$label: $errors error line(s), want $count")
    fi
    if [[ -n $(ls -A "$workdir") ]]; then
      problems+=("$label: created in its working directory: $(ls -A "$workdir" | tr '\n' ' ')")
      rm -rf "${workdir:?}"/* "$workdir"/.[!.]* 2>/dev/null
    fi
    if [[ $(ls -A "$(dirname "$path")") != "$before_case" ]]; then
      problems+=("$label: created files next to the config")
    fi
  done

  rm -rf "${scratch:?}/$name"
  if ((${#problems[@]} == 0)); then
    echo "PASS $name ($((slowest))ms)"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    printf '       %s\n' "${problems[@]}"
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

filters=("$@")
selected() {
  local name=$1 pattern
  ((${#filters[@]} == 0)) && return 0
  for pattern in "${filters[@]}"; do
    [[ $name == *"$pattern"* ]] && return 0
  done
  return 1
}

# Every NNN-name: a .yaml with a header, a .yaml with a sidecar .expect, or a
# sidecar alone (generated).
declare -A cases=()
for file in "$here"/[0-9][0-9][0-9]-*.yaml "$here"/[0-9][0-9][0-9]-*.expect; do
  [[ -e $file ]] || continue
  base=$(basename "$file")
  cases[${base%.*}]=1
done
expect_file_of() {  # expect_file_of NAME: the file with the case's expect line
  if [[ -e $here/$1.expect ]]; then echo "$here/$1.expect"; else echo "$here/$1.yaml"; fi
}
is_big() {  # is_big NAME
  local kind
  kind=$(field generate "$(expect_file_of "$1")") && [[ -n ${big_kinds[$kind]:-} ]]
}
names=()
for name in $(printf '%s\n' "${!cases[@]}" | sort); do
  case $size in
    big) is_big "$name" || continue ;;
    small) is_big "$name" && continue ;;
  esac
  names+=("$name")
done
# The shard's cases are chosen by their position before the name filters, so
# that a case stays in its shard whatever the filters.
first=$(((shard - 1) * ${#names[@]} / shards))
last=$((shard * ${#names[@]} / shards))
for name in "${names[@]:first:last-first}"; do
  selected "$name" || continue
  check_case "$name" "$here/$name.yaml" "$(expect_file_of "$name")"
done

# Controls: files that look odd but are valid, pinned so that a change is seen.
controls_passed=0 controls_failed=0
control() {
  local what=$1 path=$2
  if (cd "$scratch" && "$gapwatch" validate -c "$path" >"$scratch/control.out" 2>&1) &&
      grep -q ': valid (' "$scratch/control.out"; then
    echo "PASS control: $what"
    controls_passed=$((controls_passed + 1))
  else
    echo "FAIL control: $what"
    sed 's/^/       /' "$scratch/control.out"
    controls_failed=$((controls_failed + 1))
    failures+=("control: $what")
  fi
}
if ((${#filters[@]} == 0 && shard == 1)) && [[ $size != big ]]; then
  valid_config >"$scratch/plain.yaml"
  control "the base configuration of the generated cases validates" "$scratch/plain.yaml"
  { printf '\xef\xbb\xbf'; valid_config; } >"$scratch/bom.yaml"
  control "a UTF-8 byte-order mark is accepted" "$scratch/bom.yaml"
  valid_config | sed 's/$/\r/' >"$scratch/crlf.yaml"
  control "Windows line endings are accepted (names would refuse a stray \\r)" "$scratch/crlf.yaml"
  valid_config | iconv -f UTF-8 -t UTF-16 >"$scratch/utf16.yaml"
  control "UTF-16 with a byte-order mark is accepted (yaml-cpp converts it)" "$scratch/utf16.yaml"
  valid_config | head -c -1 >"$scratch/no-final-newline.yaml"
  control "a file without a final line break" "$scratch/no-final-newline.yaml"
fi

title=bad_input
[[ $size != all ]] && title+=" --$size"
((shards > 1)) && title+=" --shard $shard/$shards"
echo "$title: $((passed + failed)) case(s): $passed passed, $failed failed," \
  "$((controls_passed + controls_failed)) control(s):" \
  "$controls_passed passed, $controls_failed failed"
if ((failed + controls_failed > 0)); then
  printf 'failed: %s\n' "${failures[@]}"
  exit 1
fi
exit 0
