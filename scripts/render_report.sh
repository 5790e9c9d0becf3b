#!/usr/bin/env bash
# Render a report.html headless (Debian's chromium) to a PNG screenshot, to check that the
# self-contained page opens offline and looks right.
#   scripts/render_report.sh OUT_DIR/report.html [screenshot.png] [WIDTHxHEIGHT]
# Install once: apt-get install -y chromium
set -euo pipefail
html="${1:?usage: render_report.sh REPORT_HTML [PNG] [WIDTHxHEIGHT]}"
png="${2:-${html%.html}.png}"
size="${3:-1280x3000}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
    echo "render_report.sh: no chromium found (apt-get install -y chromium)" >&2
    exit 2
fi
[ -f "$html" ] || { echo "render_report.sh: $html: no such file" >&2; exit 2; }
abs="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
# Offline: no network fetches, no component updates; a throw-away profile.
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --hide-scrollbars \
    --user-data-dir="$profile" \
    --screenshot="$png" --window-size="${size/x/,}" "file://$abs" >/dev/null 2>&1
[ -s "$png" ] || { echo "render_report.sh: no screenshot written" >&2; exit 1; }
echo "$png"
