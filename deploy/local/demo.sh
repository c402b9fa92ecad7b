#!/usr/bin/env bash
# `make demo`: the ledger on the embedded SQLite default with the demo partnership loaded,
# running in the background; prints where to look. `make demo-stop` stops it, and the Kafka broker
# too if this demo started it.
# Ports: BRIDGES_LEDGER_PORT, BRIDGES_NOTIFIER_PORT, BRIDGES_SMTP_PORT if set; else the ones this
# checkout's demo used last (<var>/ports/demo) while they are free; else 8000, 8001 and 1025 if
# free; else free ones of this checkout's own (see ports.sh). So a demo never answers for another.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
var_root="${BRIDGES_VAR_DIR:-$root/var}"
var="$var_root/demo"
mkdir -p "$var"
export DATABASE_URL="${DEMO_DATABASE_URL:-sqlite:///$var/ledger.db}"
bridges=".venv/bin/bridges"
# The demo's receipts (the bus fare's ticket) sit with its databases.
export BRIDGES_RECEIPTS_DIR="${BRIDGES_RECEIPTS_DIR:-$var/receipts}"
export NOTIFIER_DATABASE_URL="${DEMO_NOTIFIER_DATABASE_URL:-sqlite:///$var/notifier.db}"
# shellcheck source=deploy/local/ports.sh
. "$root/deploy/local/ports.sh"
ports_file="$var_root/ports/demo"

stop_pid() {
  local file="$1"
  if [ -f "$file" ]; then
    local pid
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
  fi
}

case "${1:-up}" in
  down)
    stop_pid "$var/notifier-api.pid"
    stop_pid "$var/notifier.pid"
    stop_pid "$var/smtp.pid"
    stop_pid "$var/relay.pid"
    stop_pid "$var/ledger.pid"
    if [ -f "$var/kafka.started" ]; then
      bash deploy/local/kafka.sh down
      rm -f "$var/kafka.started"
    fi
    echo "demo stopped"
    exit 0
    ;;
  up) ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

# This demo's own processes first, so their ports count as free below.
for name in notifier-api notifier smtp relay ledger; do stop_pid "$var/$name.pid"; done
all_free() { for p in "$@"; do ! bridges_port_in_use "$p" || return 1; done; }
# shellcheck disable=SC2086  # the remembered ports are split on spaces
if [ -n "${BRIDGES_LEDGER_PORT:-}${BRIDGES_NOTIFIER_PORT:-}${BRIDGES_SMTP_PORT:-}" ]; then
  ports="${BRIDGES_LEDGER_PORT:-8000} ${BRIDGES_NOTIFIER_PORT:-8001} ${BRIDGES_SMTP_PORT:-1025}"
elif ports="$(bridges_remembered_ports "$ports_file" 3)" && all_free ${ports}; then
  :
elif all_free 8000 8001 1025; then
  ports="8000 8001 1025"
else
  # 500 slots of three ports in 18000-19499 (below the Kafka range and the ephemeral range).
  ports="$(bridges_pick_ports "$var_root/demo" 18000 500 3)" || { echo "no free ports for the demo" >&2; exit 1; }
fi
bridges_remember_ports "$ports_file" "$ports"
read -r port notifier_port smtp_port <<<"$ports"
for p in $ports; do
  if bridges_port_in_use "$p"; then echo "port $p is already in use; set BRIDGES_LEDGER_PORT, BRIDGES_NOTIFIER_PORT and BRIDGES_SMTP_PORT" >&2; exit 1; fi
done
export BRIDGES_NOTIFIER_URL="http://127.0.0.1:$notifier_port"
# The notifier's consumer opens sealed personal fields with keys from the ledger's API.
export BRIDGES_NOTIFIER_KEYS_URL="http://127.0.0.1:$port"
export BRIDGES_SMTP_HOST=127.0.0.1 BRIDGES_SMTP_PORT="$smtp_port"

bash deploy/local/assets.sh
"$bridges" db upgrade >/dev/null
# Events go to a local Kafka broker through the relay (the ledger itself never waits for Kafka).
# This checkout's own broker; `make demo-stop` stops it again if this demo started it.
if ! bash deploy/local/kafka.sh status >/dev/null; then touch "$var/kafka.started"; fi
bash deploy/local/kafka.sh up >/dev/null
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$(bash deploy/local/kafka.sh bootstrap)}"
if [ ! -s "$var/seed.json" ]; then
  "$bridges" demo seed --json > "$var/seed.json.tmp"
  mv "$var/seed.json.tmp" "$var/seed.json"
  # Each demo database gets its own topics, so a fresh demo never meets an older one's events.
  echo "bridges.demo.$(date +%Y%m%d%H%M%S).events" > "$var/topic"
fi
topic="${BRIDGES_EVENTS_TOPIC:-$(cat "$var/topic" 2>/dev/null || echo bridges.ledger.events)}"
export BRIDGES_EVENTS_TOPIC="$topic" BRIDGES_DLQ_TOPIC="$topic.dlq"
"$bridges" kafka init >/dev/null

stop_pid "$var/ledger.pid"
# The demo is plain http on 127.0.0.1, so its session cookie cannot be Secure-only
# (a real installation keeps the default, Secure, behind https).
BRIDGES_SECURE_COOKIES="${BRIDGES_SECURE_COOKIES:-false}" \
BRIDGES_LEDGER_ACCESS_LOG="$var/ledger-access.log" \
  setsid nohup "$bridges" ledger serve --port "$port" > "$var/ledger.log" 2>&1 &
echo $! > "$var/ledger.pid"
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "ledger did not start; see $var/ledger.log" >&2; exit 1; }

stop_pid "$var/relay.pid"
setsid nohup "$bridges" ledger relay > "$var/relay.log" 2>&1 &
echo $! > "$var/relay.pid"

# The notifier: its own SQLite database, the consumer + scheduler, and its API. Alert emails
# go to a local SMTP sink that files each message in $var/mail (a maildir) to look at.
stop_pid "$var/smtp.pid"
setsid nohup .venv/bin/python -m aiosmtpd -n -l "127.0.0.1:$smtp_port" \
  -c aiosmtpd.handlers.Mailbox "$var/mail" > "$var/smtp.log" 2>&1 &
echo $! > "$var/smtp.pid"
stop_pid "$var/notifier.pid"
BRIDGES_NOTIFIER_INSTANCE_ID=demo BRIDGES_NOTIFIER_TICK_SECONDS="${BRIDGES_NOTIFIER_TICK_SECONDS:-30}" \
  setsid nohup "$bridges" notifier run --metrics-port 0 > "$var/notifier.log" 2>&1 &
echo $! > "$var/notifier.pid"
stop_pid "$var/notifier-api.pid"
setsid nohup "$bridges" notifier serve --port "$notifier_port" > "$var/notifier-api.log" 2>&1 &
echo $! > "$var/notifier-api.pid"
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$notifier_port/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$notifier_port/readyz" >/dev/null || { echo "notifier API did not start; see $var/notifier-api.log" >&2; exit 1; }

.venv/bin/python - "$var/seed.json" "$port" "$topic" "$KAFKA_BOOTSTRAP_SERVERS" "$var/relay.log" "$notifier_port" "$var" <<'PY'
import json, sys
seed = json.load(open(sys.argv[1]))
port = sys.argv[2]
topic, bootstrap, relay_log, notifier_port, var = sys.argv[3:8]
base = f"http://127.0.0.1:{port}"
print()
print("Bridges demo is running (SQLite, demo partnership loaded).")
print(f"  Ledger API      {base}/api/v1")
print(f"  API docs        {base}/docs   (OpenAPI: {base}/openapi.json)")
print(f"  Health          {base}/healthz   Metrics: {base}/metrics")
print(f"  Partnership     {seed['partnership_id']}")
print(f"  Events topic    {topic} on Kafka {bootstrap}   (relay log: {relay_log})")
notifier = f"http://127.0.0.1:{notifier_port}"
print(f"  Notifier API    {notifier}/api/v1/alerts   docs: {notifier}/docs   "
      f"(logs: {var}/notifier.log)")
print(f"  Alert emails    {var}/mail/new/   (a local SMTP sink on 127.0.0.1)")
print("  Demo API tokens (send as 'Authorization: Bearer <token>'):")
for role, token in seed["tokens"].items():
    print(f"    {role:15} {token}")
print()
print(f"Try: curl -s -H 'Authorization: Bearer {seed['tokens']['partner_viewer']}' "
      f"{base}/api/v1/partnerships/{seed['partnership_id']}/balances")
invoice = seed.get("invoice")
if invoice:
    print()
    print(f"E-invoice {invoice['number']} (Peppol BIS Billing 3.0) for Hope Street's approved claim:")
    print(f"  Claim page      {base}/claims/{invoice['claim_id']}   (sign in as vcse_member or finance)")
    print(f"  UBL XML         curl -s -H 'Authorization: Bearer {seed['tokens']['vcse_member']}' "
          f"{base}/api/v1/invoices/{invoice['id']}/ubl")
    print(f"  PDF             {base}/api/v1/invoices/{invoice['id']}/pdf   (same header)")
web = seed.get("web")
if web:
    print()
    print(f"Web forms: sign in at {base}/sign-in   demo password: {web['password']}")
    print(f"  Cymraeg:   {base}/sign-in?lang=cy   (every page has a Cymraeg / English switch)")
    for key, email in web["people"].items():
        print(f"    {key:15} {email}")
else:
    print(f"Web forms: {base}/sign-in (this demo was seeded before passwords existed: "
          "run make demo-stop, delete var/demo, then make demo)")
print()
print("See an overdue alert appear 40 days from now (the notifier evaluates its rules as at any day):")
print(f"  NOTIFIER_DATABASE_URL=sqlite:///{var}/notifier.db .venv/bin/bridges notifier check --as-of "
      "$(date -d '+40 days' +%F)")
print()
print("Stop it with: make demo-stop")
PY
