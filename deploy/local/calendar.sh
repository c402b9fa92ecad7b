#!/usr/bin/env bash
# `make test-calendar`: the date-sensitive tests with the clock set to each awkward day of the
# calendar, so `make test` passes whatever day and hour it runs on.
#
# Usage: deploy/local/calendar.sh [--quick] [DATE...]
#   DATE    ISO 8601 instants (default: the full list below); --quick: the two `make test`
#           runs (the broker tier on the first of them only).
# For each date:
#   clock tier  (no broker): pytest under libfaketime, with BRIDGES_TEST_NOW set to the same
#               instant, so a hidden wall-clock read (product code, SQLite's CURRENT_TIMESTAMP,
#               session and token expiry) sees that date too.
#   broker tier (Kafka): BRIDGES_TEST_NOW only; the tests hand it to the processes they start
#               through the product's seam (BRIDGES_CLOCK_START). libfaketime over a whole
#               process upsets the Kafka clients' timers, so it is not used there.
# Services: BRIDGES_TEST_POSTGRES_URL / KAFKA_BOOTSTRAP_SERVERS when set, else started here.
# Exit status: 0 only if every date passed; the summary names each date that failed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

FULL_DATES=(
  2026-12-01T10:00:00Z # first working day of a month (Tuesday)
  2027-02-01T09:00:00Z # first working day of a month (Monday)
  2027-04-30T16:00:00Z # last day of a month
  2027-12-31T23:30:00Z # New Year's Eve, 23:30 UTC
  2028-02-29T12:00:00Z # 29 February
  2027-03-26T10:00:00Z # Good Friday 2027 (bank holiday)
  2027-03-29T10:00:00Z # Easter Monday 2027 (bank holiday in England and Wales)
  2027-03-28T00:30:00Z # clocks go forward: 00:30 GMT, before the change
  2027-03-28T01:30:00Z # clocks go forward: 02:30 BST, after the change
  2027-10-31T00:30:00Z # clocks go back: 01:30 BST, the first of the two 01:30s
  2027-10-31T01:30:00Z # clocks go back: 01:30 GMT, the second
  2027-07-15T23:30:00Z # a summer night: already 16 July in London
)
QUICK_DATES=(2026-12-01T10:00:00Z 2027-07-15T23:30:00Z)

CLOCK_TESTS=(tests/unit tests/integration/notifier tests/integration/api tests/e2e)
BROKER_TESTS=(tests/integration/notifier_kafka tests/reliability/test_notifier_crashes.py)
QUICK_CLOCK_TESTS=(tests/unit tests/integration/notifier tests/e2e/test_clock_seam.py)

quick=0
dates=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) dates+=("$arg") ;;
  esac
done
if [ "${#dates[@]}" -eq 0 ]; then
  if [ "$quick" -eq 1 ]; then dates=("${QUICK_DATES[@]}"); else dates=("${FULL_DATES[@]}"); fi
fi
clock_tests=("${CLOCK_TESTS[@]}")
[ "$quick" -eq 1 ] && clock_tests=("${QUICK_CLOCK_TESTS[@]}")

# libfaketime (Debian's `faketime`), installed the way test.sh installs chromium.
command -v faketime >/dev/null ||
  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y faketime)

if [ -z "${BRIDGES_TEST_POSTGRES_URL:-}" ]; then
  bash deploy/local/postgres.sh up
  BRIDGES_TEST_POSTGRES_URL="$(bash deploy/local/postgres.sh url)"
fi
export BRIDGES_TEST_POSTGRES_URL
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  bash deploy/local/kafka.sh up
  KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092
fi
export KAFKA_BOOTSTRAP_SERVERS
# The sweep is the test clock's job: a clock start inherited from the caller would hide it.
unset BRIDGES_CLOCK_START

log_dir="$root/var/calendar"
mkdir -p "$log_dir"
# Tiers run side by side, up to CALENDAR_JOBS at once (default 3: a clock tier is one busy
# core, a broker tier mostly waits on the broker and its crashes).
jobs="${CALENDAR_JOBS:-3}"
results=()
failed=0

run_tier() { # $1=date $2=tier $3...=command; writes its result line to its .result file
  local when="$1" tier="$2"
  shift 2
  local base="$log_dir/${when//:/}-$tier"
  local log="$base.log" status=0 started=$SECONDS
  echo "== calendar $when [$tier]: $*"
  "$@" >"$log" 2>&1 || status=$?
  local summary
  summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|no tests ran' "$log" | tail -n1 | tr -d '=')"
  summary="${summary# }"
  local took=$((SECONDS - started))
  if [ "$status" -eq 0 ]; then
    echo "PASS  $when  $tier  ${summary:-?} (${took}s)" >"$base.result"
  else
    [ "$status" -eq 5 ] && summary="pytest collected no tests"
    echo "FAIL  $when  $tier  ${summary:-exit $status} (${took}s; log: ${log#"$root"/})" >"$base.result"
    grep -E '^(FAILED|ERROR) ' "$log" | sed "s/^/  [$when $tier] /" >&2 || true
  fi
  cat "$base.result"
}

started_tiers=()
start_tier() { # like run_tier, in the background once fewer than $jobs are running
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  local base="$log_dir/${1//:/}-$2"
  rm -f "$base.result"
  started_tiers+=("$base")
  run_tier "$@" &
}

pytest=("$root/.venv/bin/pytest" -q -p no:cacheprovider)
for when in "${dates[@]}"; do
  start_tier "$when" clock env BRIDGES_TEST_NOW="$when" TZ=UTC \
    faketime -m "$when" "${pytest[@]}" "${clock_tests[@]}"
  # --quick: the broker tier on the first date only (the first working day of a month, where
  # the crash run once found extra statements); the full sweep runs it on every date.
  if [ "$quick" -eq 0 ] || [ "$when" = "${dates[0]}" ]; then
    start_tier "$when" broker env BRIDGES_TEST_NOW="$when" BRIDGES_RELIABILITY_CRASHES=8 \
      "${pytest[@]}" "${BROKER_TESTS[@]}"
  fi
done
wait
for base in "${started_tiers[@]}"; do
  if [ -f "$base.result" ]; then
    results+=("$(cat "$base.result")")
  else
    results+=("FAIL  ${base##*/}  (no result: the tier did not finish)")
  fi
  case "${results[-1]}" in FAIL*) failed=1 ;; esac
done

echo
echo "Calendar sweep (${#dates[@]} dates):"
printf '  %s\n' "${results[@]}"
if [ "$failed" -ne 0 ]; then
  echo "calendar sweep FAILED on the dates marked FAIL above" >&2
fi
exit "$failed"
