#!/usr/bin/env bash
# Start/stop every local service the integration tests need (Kafka, PostgreSQL, S3 storage).
#
# Why: one entry point for `make services-up` / `make services-down` and CI, on machines without
# Docker. Each service script is idempotent on its own; see kafka.sh and postgres.sh for settings.
#
# Usage: deploy/local/services.sh up|down|status
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"

case "${1:-}" in
  up)
    "$HERE/kafka.sh" up
    "$HERE/postgres.sh" up
    "$HERE/s3.sh" up
    printf 'services up: KAFKA_BOOTSTRAP_SERVERS=%s DATABASE_URL=%s BRIDGES_TEST_S3_URL=%s\n' \
      "$("$HERE/kafka.sh" bootstrap)" "$("$HERE/postgres.sh" url)" "$("$HERE/s3.sh" url)"
    ;;
  down)
    # Stop both even if the first one fails; report failure at the end.
    rc=0
    "$HERE/kafka.sh" down || rc=$?
    "$HERE/postgres.sh" down || rc=$?
    "$HERE/s3.sh" down || rc=$?
    exit "$rc"
    ;;
  status)
    rc=0
    "$HERE/kafka.sh" status || rc=$?
    "$HERE/postgres.sh" status || rc=$?
    "$HERE/s3.sh" status || rc=$?
    exit "$rc"
    ;;
  *)
    printf 'usage: %s up|down|status\n' "$0" >&2
    exit 2
    ;;
esac
