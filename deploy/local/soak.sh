#!/usr/bin/env bash
# `make soak`: R8 and R9 of RELIABILITY.md (tests/reliability/soak.py), not part of `make test`.
# Two ledgers and two relays on one PostgreSQL, three notifiers over six partitions, and a broker
# of the run's own, under a random SIGKILL every 5-20 s; then the history oracle's six checks.
# Env: BRIDGES_SOAK_SECONDS (600: how long the faults go on), BRIDGES_RELIABILITY_SEED.
# Logs of every process stay in <repo>/var/soak/<seed>-<time>/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

if [ -z "${BRIDGES_TEST_POSTGRES_URL:-}" ]; then
  bash deploy/local/postgres.sh up >/dev/null
  BRIDGES_TEST_POSTGRES_URL="$(bash deploy/local/postgres.sh url)"
  export BRIDGES_TEST_POSTGRES_URL
fi
exec .venv/bin/python -m tests.reliability.soak "$@"
