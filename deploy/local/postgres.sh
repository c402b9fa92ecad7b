#!/usr/bin/env bash
# Local PostgreSQL cluster for tests and dev, owned by this project (not Debian's "main" cluster).
#
# Why: the event store's integration tests run on a real PostgreSQL; machines here have no Docker,
# so we install Debian's postgresql package if needed and run our own cluster, listening only on
# 127.0.0.1 on this checkout's own port (see ports.sh), with a role and databases the tests expect.
#
# Where its files live: <var>/postgres, unless the script runs as root and the `postgres` OS user
# (who must own the cluster: initdb refuses root) cannot reach <var>, e.g. a checkout under /root
# or under a `mktemp -d` folder. Then they live in the postgres user's home, in
# ~postgres/bridges/<checkout name>-<hash of the var dir path>, one per checkout. `where` prints it.
#
# Usage: deploy/local/postgres.sh up|down|status|restart|url|where|purge
#   url prints the SQLAlchemy DATABASE_URL of the test database; where prints the cluster's
#   directory; purge stops the cluster and deletes its files.
# Env: PGPORT (default: this checkout's own, remembered in <var>/ports/postgres),
#      BRIDGES_VAR_DIR (<repo>/var), PG_BIN (dir holding initdb/pg_ctl).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VAR_DIR="${BRIDGES_VAR_DIR:-$REPO_ROOT/var}"
case "$VAR_DIR" in /*) ;; *) VAR_DIR="$PWD/$VAR_DIR" ;; esac   # pid checks match absolute paths
HOST=127.0.0.1
DB_USER=bridges
DB_PASSWORD=bridges
DATABASES="bridges_test bridges"
OS_USER=postgres   # initdb/postgres refuse to run as root: when root, the cluster belongs to this user

say() { printf '%s\n' "$*"; }
die() { printf 'postgres: error: %s\n' "$*" >&2; exit 1; }

# Run a command as the cluster owner (the postgres OS user when we are root).
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    (cd / && runuser -u "$OS_USER" -- "$@")   # from /: it may not enter the current directory
  else
    "$@"
  fi
}

# The cluster's directory (PG_VAR): <var>/postgres when its owner can reach it, else one under the
# postgres user's home keyed by this checkout's var dir (see the header).
cluster_dir() {
  local home name
  if [[ "$(id -u)" -ne 0 ]] || [[ -f "$VAR_DIR/postgres/data/PG_VERSION" ]]; then
    printf '%s\n' "$VAR_DIR/postgres"
    return 0
  fi
  if ! id "$OS_USER" >/dev/null 2>&1; then   # not installed yet: `up` installs it, then asks again
    printf '%s\n' "$VAR_DIR/postgres"
    return 0
  fi
  mkdir -p "$VAR_DIR"
  if as_owner test -x "$VAR_DIR"; then
    printf '%s\n' "$VAR_DIR/postgres"
    return 0
  fi
  home="$(getent passwd "$OS_USER" | cut -d: -f6)"
  if [[ -z "$home" || ! -d "$home" ]] || ! as_owner test -x "$home"; then
    die "user $OS_USER cannot reach $VAR_DIR and has no usable home directory; set BRIDGES_VAR_DIR to a directory it can reach"
  fi
  name="$(basename "$REPO_ROOT" | tr -c 'A-Za-z0-9._\n-' '_')"
  printf '%s\n' "$home/bridges/$name-$(printf '%08x' "$(bridges_hash "$VAR_DIR")")"
}

# shellcheck source=deploy/local/ports.sh
. "$REPO_ROOT/deploy/local/ports.sh"

# Sets PG_VAR and everything under it, and PORT (remembered in <var>/ports/postgres).
PORT_FILE="$VAR_DIR/ports/postgres"
locate() {
  PG_VAR="$(cluster_dir)" || exit 1
  PGDATA_DIR="$PG_VAR/data"
  PG_LOG="$PG_VAR/logs/postgres.log"
  # The unix socket path must fit in sun_path (~107 bytes); fall back to /tmp for deep checkouts.
  SOCKET_DIR="$PG_VAR/run"
  if ((${#SOCKET_DIR} + 20 > 107)); then
    SOCKET_DIR="/tmp/bridges-pg-$(bridges_hash "$PG_VAR")"
  fi
  if [[ -n "${PGPORT:-}" ]]; then
    PORT="$PGPORT"
  elif PORT="$(bridges_remembered_ports "$PORT_FILE" 1)"; then
    :
  elif [[ -f "$PGDATA_DIR/bridges.conf" ]] && grep -q '^port = [0-9]*$' "$PGDATA_DIR/bridges.conf"; then
    PORT="$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$PGDATA_DIR/bridges.conf")"   # configured before ports were remembered
  else
    # 1000 slots in 25432-26431: below Linux's ephemeral range (32768+).
    PORT="$(bridges_pick_ports "$VAR_DIR" 25432 1000 1)" || die "no free port in 25432-26431"
  fi
  [[ "$(bridges_remembered_ports "$PORT_FILE" 1 2>/dev/null || true)" == "$PORT" ]] ||
    bridges_remember_ports "$PORT_FILE" "$PORT"
}

url() { printf 'postgresql+psycopg://%s:%s@%s:%s/bridges_test\n' "$DB_USER" "$DB_PASSWORD" "$HOST" "$PORT"; }

locate

# ---------------------------------------------------------------------------------- binaries

find_pg_bin() {
  local d c
  for d in ${PG_BIN:-} \
    "$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || echo /nonexistent)")")" \
    $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -n "$d" ]] || continue
    for c in initdb pg_ctl postgres pg_isready psql; do [[ -x "$d/$c" ]] || continue 2; done
    printf '%s\n' "$d"
    return 0
  done
  return 1
}

ensure_pg_bin() {
  if PGBIN="$(find_pg_bin)"; then return 0; fi
  [[ "$(id -u)" -eq 0 ]] ||
    die "PostgreSQL server binaries not found; install them (sudo apt-get install -y postgresql) or set PG_BIN"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL not found and no apt-get to install it; set PG_BIN"
  say "postgres: installing Debian's postgresql package (once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  PGBIN="$(find_pg_bin)" || die "postgresql installed but initdb/pg_ctl still not found under /usr/lib/postgresql/*/bin"
}

# ---------------------------------------------------------------------------------- cluster

pg() { as_owner "$PGBIN/$1" "${@:2}"; }

# A dead child of pid 1 can stay a zombie for seconds here (init reaps lazily): count it as dead.
alive() { kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

postmaster_pid() { head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true; }

ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "-D $PGDATA_DIR "; }

is_running() {
  local pid
  pid="$(postmaster_pid)"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && ours "$pid"
}

# After a kill -9 of the postmaster its pid file stays; postgres refuses to start while that pid
# exists, even as a zombie or as an unrelated process that reused the pid. Wait a little for a
# zombie to be reaped, then drop the stale lock files.
clear_stale_pid() {
  local pid i
  pid="$(postmaster_pid)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    alive "$pid" && break   # not a zombie: an unrelated process reusing the pid
    sleep 0.5
  done
  say "postgres: removing stale postmaster.pid (pid $pid is not our server)"
  rm -f "$PGDATA_DIR/postmaster.pid" "$SOCKET_DIR/.s.PGSQL.$PORT.lock"
}

is_ready() { "$PGBIN/pg_isready" -q -h "$HOST" -p "$PORT" -t 2 >/dev/null 2>&1; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" >/dev/null 2>&1; }

prepare_dirs() {
  mkdir -p "$PG_VAR/logs" "$SOCKET_DIR"
  if [[ "$(id -u)" -eq 0 ]]; then
    id "$OS_USER" >/dev/null 2>&1 || die "OS user '$OS_USER' missing (it comes with Debian's postgresql package)"
    as_owner test -x "$(dirname "$PG_VAR")" ||
      die "user $OS_USER cannot reach $PG_VAR (a parent directory is not searchable by it)"
    chown "$OS_USER:" "$PG_VAR" "$PG_VAR/logs" "$SOCKET_DIR"
    [[ -e "$PG_LOG" ]] && chown "$OS_USER:" "$PG_LOG"
  fi
  chmod 700 "$SOCKET_DIR"
}

init_cluster() {
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] && return 0
  say "postgres: creating cluster in $PGDATA_DIR"
  rm -rf "$PGDATA_DIR"
  mkdir -p "$PGDATA_DIR"
  [[ "$(id -u)" -eq 0 ]] && chown "$OS_USER:" "$PGDATA_DIR"
  chmod 700 "$PGDATA_DIR"
  # Local socket: trust (only the owner can reach the socket dir). TCP: password (scram).
  pg initdb -D "$PGDATA_DIR" -U postgres --encoding=UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >"$PG_VAR/logs/initdb.log" 2>&1 ||
    die "initdb failed (see $PG_VAR/logs/initdb.log)"
}

write_config() { # settings of ours, regenerated on each start, included from postgresql.conf
  local conf="$PGDATA_DIR/bridges.conf"
  cat >"$conf" <<EOF
# Generated by deploy/local/postgres.sh on each start; edit the script, not this file.
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
max_connections = 200
EOF
  [[ "$(id -u)" -eq 0 ]] && chown "$OS_USER:" "$conf"
  grep -qx "include = 'bridges.conf'" "$PGDATA_DIR/postgresql.conf" ||
    printf "\ninclude = 'bridges.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
}

# Role and databases, created if missing (runs as the superuser over the unix socket).
provision() {
  pg psql -h "$SOCKET_DIR" -p "$PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 >/dev/null <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
$(for db in $DATABASES; do
    printf "SELECT 'CREATE DATABASE %s OWNER %s' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '%s')\\\\gexec\n" "$db" "$DB_USER" "$db"
  done)
EOF
}

with_lock() { # serialise up/down between concurrent callers (e.g. parallel test workers)
  mkdir -p "$PG_VAR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$PG_VAR/.lock"
    flock -w 120 9 || die "could not take $PG_VAR/.lock"
  fi
}

# ---------------------------------------------------------------------------------- commands

cmd_up() {
  local t0=$SECONDS
  ensure_pg_bin
  locate   # again: installing the package may just have created the postgres OS user
  with_lock
  local i
  # Running already: answer fast. A server that is still starting (or dying, e.g. after a
  # kill -9 of the postmaster) gets up to 15 s to settle either way.
  for ((i = 0; i < 30; i++)); do
    is_running || break
    if is_ready; then
      provision
      say "postgres up on $HOST:$PORT (already running; url: $(url); cluster files: $PG_VAR)"
      return 0
    fi
    sleep 0.5
  done
  is_running && die "our cluster is running but $HOST:$PORT does not answer (PGPORT changed?); run '$0 restart'"
  if port_open "$PORT"; then
    local owner=""
    command -v ss >/dev/null 2>&1 &&
      owner="$(ss -Hltnp "sport = :$PORT" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1)"
    die "port $HOST:$PORT is already in use by another process${owner:+ ($owner)}; stop it, set PGPORT, or delete $PORT_FILE to choose another"
  fi
  prepare_dirs
  init_cluster
  clear_stale_pid
  write_config
  # -w waits until the server accepts connections; the log keeps startup errors.
  pg pg_ctl -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null 9>&- || {
    tail -n 20 "$PG_LOG" >&2 || true
    die "pg_ctl start failed (see $PG_LOG)"
  }
  for ((i = 0; i < 60; i++)); do is_ready && break; sleep 0.5; done
  is_ready || die "server started but $HOST:$PORT is not ready after 30s (see $PG_LOG)"
  provision
  say "postgres up on $HOST:$PORT ($((SECONDS - t0))s; url: $(url); cluster files: $PG_VAR)"
}

cmd_down() {
  with_lock
  if ! PGBIN="$(find_pg_bin)" || ! is_running; then
    say "postgres down (was not running)"
    return 0
  fi
  if ! pg pg_ctl -D "$PGDATA_DIR" -m fast -w -t 30 stop >/dev/null; then
    say "postgres: fast shutdown timed out; using immediate mode"
    pg pg_ctl -D "$PGDATA_DIR" -m immediate -w -t 30 stop >/dev/null
  fi
  say "postgres down"
}

cmd_status() {
  if PGBIN="$(find_pg_bin)" && is_running; then
    if is_ready; then
      say "postgres running on $HOST:$PORT (data: $PGDATA_DIR; url: $(url))"
    else
      say "postgres running but $HOST:$PORT not answering (data: $PGDATA_DIR)"
    fi
    return 0
  fi
  say "postgres stopped"
  return 3
}

cmd_purge() {
  cmd_down
  rm -rf "$PG_VAR" "$PORT_FILE"
  [[ "$SOCKET_DIR" == "$PG_VAR"/* ]] || rm -rf "$SOCKET_DIR"
  say "postgres: deleted the cluster's files ($PG_VAR)"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart) cmd_down; cmd_up ;;
  url) url ;;
  where) say "$PG_VAR" ;;
  purge) cmd_purge ;;
  *) say "usage: $0 up|down|status|restart|url|where|purge" >&2; exit 2 ;;
esac
