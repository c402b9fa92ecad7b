#!/usr/bin/env bash
# `make test`: start the real services the tests talk to, then run every test tier.
# pytest's own exit code is passed on, so "no tests collected" (5) fails the run too.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here) and
# check pages against GOV.UK Frontend and axe-core from npm.
command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
bash deploy/local/assets.sh
# The PDFs embed DejaVu Sans for the Welsh letters ŵ and ŷ (tests check the font is embedded).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-dejavu-core)
# tests/deploy checks the reverse proxy's configuration with nginx itself (`nginx -t`).
command -v nginx >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light)
# tests/bench runs P1 at a tiny size, and P1's load generator is wrk (Debian's package).
command -v wrk >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk)

# E-invoices are validated against the official UBL 2.1, EN 16931 and Peppol BIS 3.0 rule sets,
# fetched once from Maven Central into var/ (the tests would fetch them too; this says so first).
command -v unzip >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y unzip)
bash deploy/local/einvoice-rules.sh fetch >/dev/null

bash deploy/local/postgres.sh up
BRIDGES_TEST_POSTGRES_URL="$(bash deploy/local/postgres.sh url)"
export BRIDGES_TEST_POSTGRES_URL

# The relay, notifier and fault tests talk to a real broker (KRaft, on 127.0.0.1).
bash deploy/local/kafka.sh up
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$(bash deploy/local/kafka.sh bootstrap)}"

# Sign-in with an organisation's identity provider is tested against a real OpenID Connect
# provider on loopback (mock-oauth2-server from Maven Central).
bash deploy/local/oidc.sh up
export BRIDGES_TEST_OIDC_URL="${BRIDGES_TEST_OIDC_URL:-$(bash deploy/local/oidc.sh url)}"
# tests/deploy checks deploy/prometheus/alerts.yaml with Prometheus's own rule parser (Go).
bash deploy/local/promrules.sh >/dev/null
# Receipts in S3-compatible storage are tested against moto's server (deploy/local/s3.sh).
bash deploy/local/s3.sh up
export BRIDGES_TEST_S3_URL="${BRIDGES_TEST_S3_URL:-$(bash deploy/local/s3.sh url)}"

status=0
pytest_status() { # the exit status of one pytest run, with "no tests collected" said
  if [ "$1" -eq 5 ]; then
    echo "pytest collected no tests${2:+ in $2}: that is a failure here" >&2
  fi
  return "$1"
}
if [ "$#" -gt 0 ]; then
  .venv/bin/pytest "$@" || status=$?
  pytest_status "$status" || true
else
  # Every test, in two pytest processes side by side: the fault runs (tests/reliability),
  # which mostly wait on outages, kills and restarts of processes of their own, and the rest,
  # which mostly compute. Their databases and topics are their own; the summary of the fault
  # runs follows the other's (its whole output: var/test-reliability.log).
  mkdir -p var
  reliability_log=var/test-reliability.log
  .venv/bin/pytest tests/reliability >"$reliability_log" 2>&1 &
  reliability=$!
  rest=0
  .venv/bin/pytest --ignore=tests/reliability || rest=$?
  faults=0
  wait "$reliability" || faults=$?
  echo "== tests/reliability (run alongside; whole output in $reliability_log)"
  if [ "$faults" -eq 0 ]; then
    tail -n 1 "$reliability_log"
  else
    cat "$reliability_log"
  fi
  pytest_status "$rest" || status=$rest
  pytest_status "$faults" tests/reliability || status=$((status == 0 ? faults : status))
fi
# A slice of the calendar sweep (`make test-calendar` runs all of it): the suite must pass on
# the first working day of a month and on a summer night that is already tomorrow in London.
if [ "$#" -eq 0 ]; then
  bash deploy/local/calendar.sh --quick || status=$((status == 0 ? 1 : status))
fi
exit "$status"
