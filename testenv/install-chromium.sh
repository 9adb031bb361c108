#!/usr/bin/env bash
# Installs Debian's headless Chromium (and a font to draw text with) for the tests that
# render HTML in a real browser (testenv/browser). .ci/run calls it; locally, run it once
# as root (or with sudo). Silent when Chromium is already there.
set -euo pipefail

for bin in chromium-headless-shell chromium; do
	if command -v "$bin" >/dev/null 2>&1; then
		exit 0
	fi
done

sudo=""
if [[ "$(id -u)" != 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "testenv/install-chromium.sh: run as root: apt-get install chromium-headless-shell fonts-dejavu-core" >&2
		exit 1
	fi
	sudo="sudo"
fi

echo "installing chromium-headless-shell from Debian (apt-get) for the browser tests — first run only" >&2
log="$(mktemp "${TMPDIR:-/tmp}/cognito-resend-apt.XXXXXX")"
trap 'rm -f "$log"' EXIT
if ! { $sudo apt-get update -qq &&
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		chromium-headless-shell fonts-dejavu-core; } >"$log" 2>&1; then
	echo "testenv/install-chromium.sh: apt-get failed:" >&2
	cat "$log" >&2
	exit 1
fi
command -v chromium-headless-shell >/dev/null
