#!/usr/bin/env bash
# Builds deploy/local/promrules (Prometheus's own rule-file checker, see main.go) once, from the
# Go module proxy, into the user's cache, and prints the binary's path. Needs Go 1.21 or newer.
# Usage: deploy/local/promrules.sh [FILE...]   (with files: check them instead of printing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/promrules"
sum="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | cksum | cut -d' ' -f1)"
out="${XDG_CACHE_HOME:-$HOME/.cache}/bridges/promrules-$sum"
bin="$out/promrules"
if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null 2>&1 ||
    { echo "promrules: go not found: install Go 1.21+ (https://go.dev/dl/) to check the alert rules" >&2; exit 1; }
  mkdir -p "$out"
  echo "promrules: building from the Go module proxy (once, cached in $out)" >&2
  (cd "$src" && GOFLAGS=-mod=readonly go build -o "$bin.tmp.$$" .) >&2
  mv -f "$bin.tmp.$$" "$bin"
fi
if [[ $# -gt 0 ]]; then
  exec "$bin" "$@"
fi
printf '%s\n' "$bin"
