#!/usr/bin/env bash
# Local S3-compatible object storage for the receipts' tests: moto's standalone server.
#
# Why: receipts are kept in S3-compatible storage in production (boto3), and the tests must talk
# to a real S3 API, not a mock in the test process. moto (Apache-2.0, from PyPI, installed into
# the project's venv by `make install`) runs here as its own process, on 127.0.0.1 only, on this
# checkout's own port (see ports.sh), its pid and log under <var>/s3. It keeps objects in memory:
# a restart starts empty, which suits tests (each makes its own bucket).
#
# Usage: deploy/local/s3.sh up|down|status|url
#   url prints the endpoint (http://127.0.0.1:PORT) for BRIDGES_RECEIPTS_S3_ENDPOINT_URL.
# Env: BRIDGES_S3_PORT (default: this checkout's own, remembered in <var>/ports/s3),
#      BRIDGES_VAR_DIR (<repo>/var), BRIDGES_S3_READY_TIMEOUT (30 seconds).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VAR_DIR="${BRIDGES_VAR_DIR:-$REPO_ROOT/var}"
case "$VAR_DIR" in /*) ;; *) VAR_DIR="$PWD/$VAR_DIR" ;; esac
S3_VAR="$VAR_DIR/s3"
PID_FILE="$S3_VAR/moto.pid"
LOG_FILE="$S3_VAR/moto.log"
SERVER="$REPO_ROOT/.venv/bin/moto_server"
HOST=127.0.0.1
READY_TIMEOUT="${BRIDGES_S3_READY_TIMEOUT:-30}"

say() { printf '%s\n' "$*"; }
die() { printf 's3: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=deploy/local/ports.sh
. "$REPO_ROOT/deploy/local/ports.sh"
PORTS_FILE="$VAR_DIR/ports/s3"
if [[ -n "${BRIDGES_S3_PORT:-}" ]]; then
  PORT="$BRIDGES_S3_PORT"
elif ! PORT="$(bridges_remembered_ports "$PORTS_FILE" 1)"; then
  # 1000 slots of one port in 23000-23999: below Linux's ephemeral range, apart from the others.
  PORT="$(bridges_pick_ports "$VAR_DIR" 23000 1000 1)" || die "no free port in 23000-23999"
fi
[[ "$(bridges_remembered_ports "$PORTS_FILE" 1 2>/dev/null || true)" == "$PORT" ]] ||
  bridges_remember_ports "$PORTS_FILE" "$PORT"

running_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && grep -q moto "/proc/$pid/cmdline" 2>/dev/null &&
    printf '%s\n' "$pid"
}

answers() {
  "$REPO_ROOT/.venv/bin/python" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()' "http://$HOST:$PORT/moto-api/" >/dev/null 2>&1
}

cmd_up() {
  local pid i
  if pid="$(running_pid)"; then
    if answers; then say "s3 up on http://$HOST:$PORT (pid $pid, already running)"; return 0; fi
  else
    [[ -x "$SERVER" ]] || die "$SERVER is missing: run 'make install' first"
    if bridges_port_in_use "$PORT"; then
      die "port $HOST:$PORT is in use by another process; set BRIDGES_S3_PORT or delete $PORTS_FILE"
    fi
    mkdir -p "$S3_VAR"
    # setsid: the server outlives this script (and the shell that ran `make test`).
    setsid "$SERVER" -H "$HOST" -p "$PORT" >"$LOG_FILE" 2>&1 < /dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
  fi
  for ((i = 0; i < READY_TIMEOUT * 4; i++)); do
    if answers; then say "s3 up on http://$HOST:$PORT (pid $pid; log: $LOG_FILE)"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG_FILE" >&2; die "moto_server exited"; }
    sleep 0.25
  done
  die "moto_server did not answer on $HOST:$PORT within ${READY_TIMEOUT}s (log: $LOG_FILE)"
}

cmd_down() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid"
    say "s3 stopped (pid $pid)"
  else
    say "s3 not running"
  fi
  rm -f "$PID_FILE"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status)
    if pid="$(running_pid)" && answers; then say "s3 up on http://$HOST:$PORT (pid $pid)"; else say "s3 down"; exit 1; fi
    ;;
  url) printf 'http://%s:%s\n' "$HOST" "$PORT" ;;
  *) printf 'usage: %s up|down|status|url\n' "$0" >&2; exit 2 ;;
esac
