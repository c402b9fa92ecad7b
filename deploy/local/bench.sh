#!/usr/bin/env bash
# `make bench`: run the benchmarks in bench/ (each prints its figure and its baseline), then write
# var/bench/report.md (a table of every figure, plots, each benchmark's output).
# Usage: deploy/local/bench.sh [name ...]   e.g. `deploy/local/bench.sh relay_throughput`
# Starts the local Kafka broker first (the relay, consumer and alert benchmarks use it).
# Sizes that fit the 15-minute budget on a shared 2-core machine (override to go bigger):
#   BENCH_REBUILD_EVENTS (P5, default 10000), BENCH_CONSUME_EVENTS (P3, default 10000),
#   BENCH_COST_SIZES (P7, claims, default "1000 5000"), BENCH_ALERT_RATES (P4, default
#   "5 10 20 40"), BENCH_SUBMISSIONS_SECONDS (P1, seconds of wrk per server, database and
#   connection count, default 5), BRIDGES_BENCH_POSTGRES_URL (P7's server). P3 and P5 report
#   rates (events/s against a bare consumer in the same run) and P5 its peak memory; at 30000
#   events each took 7 minutes of a loaded machine, most of it producing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# P1's load generator: wrk, from Debian's packages.
command -v wrk >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk)

bash deploy/local/kafka.sh up
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$(bash deploy/local/kafka.sh bootstrap)}"

out="${BENCH_OUT:-var/bench}"
mkdir -p "$out"
rm -f "$out"/results.jsonl "$out"/*.txt "$out"/*.png
export BENCH_RESULTS="$root/$out/results.jsonl"

if [ "$#" -gt 0 ]; then
  benches=()
  for name in "$@"; do benches+=("bench/${name%.py}.py"); done
else
  benches=()
  for bench in bench/*.py; do
    case "$(basename "$bench")" in _*) ;; *) benches+=("$bench") ;; esac  # _*.py are helpers
  done
fi

args_for() {
  case "$(basename "$1" .py)" in
    notifier_rebuild) echo "--events ${BENCH_REBUILD_EVENTS:-10000}" ;;
    notifier_consume) echo "--events ${BENCH_CONSUME_EVENTS:-10000}" ;;
    read_costs) echo "--sizes ${BENCH_COST_SIZES:-1000 5000}" ;;
    alert_latency) echo "--rates ${BENCH_ALERT_RATES:-5 10 20 40}" ;;
    claim_submissions) echo "--seconds ${BENCH_SUBMISSIONS_SECONDS:-5}" ;;
  esac
}

status=0
for bench in "${benches[@]}"; do
  echo "== $bench"
  log="$out/$(basename "$bench" .py).txt"
  # shellcheck disable=SC2046  # the sizes are words
  if ! .venv/bin/python "$bench" $(args_for "$bench") > "$log.all" 2>&1; then
    echo "$bench failed" >&2
    status=1
  fi
  grep -v '"level": "info"' "$log.all" > "$log" || true   # the services' info logs aside
  rm -f "$log.all"
  cat "$log"
done
.venv/bin/python bench/_report.py "$out"
exit "$status"
