#!/bin/sh
# Debian's chromium for the frontend's end-to-end test (driven with playwright-core, never a downloaded
# browser). Nothing to do when it is installed; otherwise apt-get as root (or through sudo).
set -eu
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-chromium: $CHROMIUM is missing; install it as root: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get here; install chromium and set CHROMIUM_PATH to it" >&2
  exit 1
fi
echo "install-chromium: installing Debian's chromium (apt-get)"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
test -x "$CHROMIUM"
echo "install-chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed)"
