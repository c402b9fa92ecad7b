#!/usr/bin/env bash
# Front-end assets of the web forms, from the npm registry through the project's own build:
# `npm ci` from services/ledger/web/package-lock.json, then GOV.UK Frontend's script and
# assets copied, and its styles compiled (Arial instead of the GOV.UK-only font) into the
# gitignored services/ledger/web/static/govuk/. A second run with nothing changed does nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
web="$root/services/ledger/web"
out="$web/static/govuk"
cd "$web"

stamp_of() {
  cat package.json package-lock.json assets/bridges.scss "$root/deploy/local/assets.sh" 2>/dev/null \
    | sha256sum | cut -d' ' -f1
}
stamp="$(stamp_of)"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] \
  && [ -f node_modules/axe-core/axe.min.js ] && [ -f "$out/bridges.css" ]; then
  exit 0
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

dist="node_modules/govuk-frontend/dist/govuk"
tmp="$(mktemp -d "$web/static/.govuk.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cp "$dist/govuk-frontend.min.js" "$tmp/"
cp -R "$dist/assets" "$tmp/assets"
node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map \
  --quiet-deps --silence-deprecation=import assets/bridges.scss "$tmp/bridges.css"
echo "$stamp" > "$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "web assets built in ${out#"$root"/}"
