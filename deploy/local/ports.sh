# shellcheck shell=bash
# Sourced by kafka.sh, postgres.sh and demo.sh: the TCP ports of one checkout's local services.
#
# Why: several checkouts of Bridges run on one machine (a developer's clone next to a CI one, a
# demo next to a test run). Fixed ports made the second one stop with "port already in use", or
# worse, talk to the first one's broker. Each checkout therefore gets its own ports, chosen once and
# remembered in a file under its var dir:
#   - an explicit setting (KAFKA_PORT, PGPORT, BRIDGES_LEDGER_PORT, ...) wins and is remembered;
#   - else the remembered ports, if the file exists;
#   - else the first free block of ports at or after an offset derived from the key (a hash of the
#     checkout's var dir), so two checkouts almost never even try the same ports.

# True if something listens on 127.0.0.1:$1 (or on any address, when `ss` can tell).
bridges_port_in_use() {
  if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; then
    return 0
  fi
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" >/dev/null 2>&1
}

# A stable number from a string (CRC-32 of it).
bridges_hash() { printf '%s' "$1" | cksum | cut -d' ' -f1; }

# bridges_pick_ports KEY BASE SLOTS COUNT [PREFERRED_FIRST_PORT]
# Prints COUNT consecutive free ports (space-separated): the block starting at
# PREFERRED_FIRST_PORT if given and free, else the first free block among SLOTS blocks of COUNT
# ports starting at BASE, searched from the slot the hash of KEY selects. Fails if none is free.
bridges_pick_ports() {
  local key="$1" base="$2" slots="$3" count="$4" preferred="${5:-}" hash i j start ports
  local -a starts=()
  [[ -n "$preferred" ]] && starts+=("$preferred")
  hash="$(bridges_hash "$key")"
  for ((i = 0; i < slots; i++)); do starts+=("$((base + ((hash + i) % slots) * count))"); done
  for start in "${starts[@]}"; do
    ports=""
    for ((j = 0; j < count; j++)); do
      bridges_port_in_use "$((start + j))" && continue 2
      ports="${ports:+$ports }$((start + j))"
    done
    printf '%s\n' "$ports"
    return 0
  done
  return 1
}

# bridges_remember_ports FILE PORTS...: write the ports to FILE (atomically).
bridges_remember_ports() {
  local file="$1"
  shift
  mkdir -p "$(dirname "$file")"
  printf '%s\n' "$*" >"$file.tmp.$$"
  mv -f "$file.tmp.$$" "$file"
}

# bridges_remembered_ports FILE COUNT: print the ports remembered in FILE if it holds COUNT ports.
bridges_remembered_ports() {
  local file="$1" count="$2" line
  [[ -s "$file" ]] || return 1
  line="$(head -n1 "$file")"
  [[ "$line" =~ ^[0-9]+( [0-9]+)*$ ]] || return 1
  # shellcheck disable=SC2086  # split the remembered ports on spaces
  set -- $line
  [[ $# -eq "$count" ]] || return 1
  printf '%s\n' "$line"
}
