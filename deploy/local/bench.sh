#!/usr/bin/env bash
# `make bench`: run the benchmarks in bench/ (each prints its figure and its baseline).
# Usage: deploy/local/bench.sh [name ...]   e.g. `deploy/local/bench.sh relay_throughput`
# Starts the local Kafka broker first (the relay benchmark publishes to it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

bash deploy/local/kafka.sh up
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$(bash deploy/local/kafka.sh bootstrap)}"

if [ "$#" -gt 0 ]; then
  benches=()
  for name in "$@"; do benches+=("bench/${name%.py}.py"); done
else
  benches=()
  for bench in bench/*.py; do
    case "$(basename "$bench")" in _*) ;; *) benches+=("$bench") ;; esac  # _*.py are helpers
  done
fi

status=0
for bench in "${benches[@]}"; do
  echo "== $bench"
  .venv/bin/python "$bench" || { echo "$bench failed" >&2; status=1; }
done
exit "$status"
