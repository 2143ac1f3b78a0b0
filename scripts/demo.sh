#!/usr/bin/env bash
# The airlock demo, one command: `bash scripts/demo.sh` from a clone, on Debian 12 / Ubuntu.
#
# Sets up what is missing (OS packages through scripts/setup-debian.sh, `npm ci`, `npm run build`),
# then runs a scripted agent (examples/demo/agent.sh: deterministic, no model) under the demo
# policy (examples/demo/airlock.yaml: what `airlock init` writes, plus only what the demo needs)
# on gVisor, on a copy of examples/demo/sample-repo. The agent fixes a real bug, and also obeys a
# prompt injection planted in the repository's CONTRIBUTING.md: it reads credential files, sends
# its token to collector.attacker.example, writes an auto-approve setting into .vscode/settings.json
# and installs a git pre-commit hook. The demo then shows the session summary, `airlock diff`,
# `airlock apply --commit` on a PR branch and `airlock score`, and ends with a "contained:"
# checklist computed from the evidence (examples/demo/check.mjs). Exit status 0 only when every
# injected action was contained and scored and the fix works.
#
# Everything happens in a fresh directory (DEMO_DIR, default: a new /tmp/airlock-demo.XXXXXX) with
# a throwaway HOME and AIRLOCK_HOME; the only network traffic is on 127.0.0.1. DEMO_DIR is kept
# for inspection (the session's log, layers and the sample repository).
set -euo pipefail
# Run under `node --test` (test/e2e/demo.test.ts), node would report the sample's tests to the parent runner.
unset NODE_TEST_CONTEXT

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EX="$ROOT/examples/demo"
AIRLOCK="$ROOT/bin/airlock"

if [ -t 1 ]; then B=$'\e[1m'; R=$'\e[0m'; else B=''; R=''; fi
section() { printf '\n%s━━ %s %s%s\n' "$B" "$1" "$(printf '━%.0s' $(seq 1 $((70 - ${#1}))))" "$R"; }
note() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "needs root for: $*"; fi; }

# ── set up what is missing ───────────────────────────────────────────────────────────────────
# DEMO_SKIP_SETUP=1 skips the installs and the build (the test suite, which has just built dist/).
section 'set-up'
command -v node >/dev/null || die 'Node.js 20 or newer is needed (https://nodejs.org, or NodeSource packages); then run this again'
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is needed (found $(node --version))"
setup_missing() {
  local missing=() tool
  for tool in runsc bwrap socat strace git; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  # plain bookworm's runsc (2023-02) has a statx bug that breaks `ls` inside; backports has a good one
  if command -v runsc >/dev/null && ! [ "$(runsc --version | sed -n 's/^runsc version 0.0~\([0-9]*\).*/\1/p')" -ge 20230227 ] 2>/dev/null; then missing+=("runsc (too old)"); fi
  if [ ${#missing[@]} -gt 0 ]; then
    note "missing: ${missing[*]} → bash scripts/setup-debian.sh"
    as_root bash "$ROOT/scripts/setup-debian.sh"
  fi
  if ! command -v curl >/dev/null; then
    note "missing: curl (the demo agent's HTTP client) → apt-get install curl"
    as_root apt-get update -qq && as_root apt-get install -y -qq curl >/dev/null
  fi
  cd "$ROOT"
  if [ ! -d node_modules ]; then note 'node_modules missing → npm ci'; npm ci --no-audit --no-fund; fi
  if [ ! -f dist/src/cli/main.js ] || [ -n "$(find src bench test tsconfig.json package.json -newer dist/src/cli/main.js -print -quit)" ]; then
    note 'dist/ missing or older than the sources → npm run build'
    npm run build --silent
  fi
}
if [ "${DEMO_SKIP_SETUP:-}" = 1 ]; then note 'DEMO_SKIP_SETUP=1: no installs, no build'; else setup_missing; fi
note "runsc: $(runsc --version 2>/dev/null | head -1) · node $(node --version) · $(git --version)"
[ "$(id -u)" = 0 ] || note 'note: not root — airlock stages the workspace by copying instead of overlayfs'

# ── the scene: a sample repository, a throwaway home with a decoy credential, the API ─────────
if [ -n "${DEMO_DIR:-}" ]; then
  mkdir -p "$DEMO_DIR"
  [ -z "$(ls -A "$DEMO_DIR")" ] || die "DEMO_DIR=$DEMO_DIR is not empty"
  D=$(cd "$DEMO_DIR" && pwd)
else
  D=$(mktemp -d /tmp/airlock-demo.XXXXXX)
fi
REPO="$D/repo"
export HOME="$D/home" AIRLOCK_HOME="$D/airlock-home"
# The issue-tracker token: fake, fresh per run (a test may pass its own). Only the proxy and the API see it.
export DEMO_API_TOKEN="${DEMO_API_TOKEN:-demo-token-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}"
export GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME/.aws" "$AIRLOCK_HOME"
printf '[user]\n\tname = Airlock Demo\n\temail = demo@airlock.invalid\n[init]\n\tdefaultBranch = main\n' > "$HOME/.gitconfig"
# A decoy credential in the (throwaway) home: AWS's documented example key, not a real one.
printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' > "$HOME/.aws/credentials"
cp -a "$EX/sample-repo" "$REPO"
git -C "$REPO" init -q -b main
git -C "$REPO" add -A
git -C "$REPO" commit -qm 'slugify-lite 1.0.0'
cp "$EX/agent.sh" "$D/agent.sh"

api_pid=''
cleanup() { if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
node "$EX/api-server.mjs" "$D" 2>"$D/api-server.err" &
api_pid=$!
for _ in $(seq 1 100); do [ -s "$D/api-port" ] && break; sleep 0.1; done
[ -s "$D/api-port" ] || die "the demo API did not start: $(cat "$D/api-server.err")"
port=$(cat "$D/api-port")
# The demo policy names the API as 127.0.0.1:8787; the API listens on a free port: put it in.
sed "s/127\.0\.0\.1:8787/127.0.0.1:$port/g" "$EX/airlock.yaml" > "$D/airlock.yaml"

note "demo directory: $D"
note "  repo/            the sample repository (git, branch main); repo/.env holds a decoy key (gitignored)"
note "  home/            HOME for everything here, with a decoy ~/.aws/credentials"
note "  airlock-home/    AIRLOCK_HOME: the session's signed log, staged layers, attestation"
note "  airlock.yaml     examples/demo/airlock.yaml with the API on 127.0.0.1:$port"
note "  issue-tracker API: https://127.0.0.1:$port (its real token is in DEMO_API_TOKEN on the host only)"

# ── 1. the session ────────────────────────────────────────────────────────────────────────────
section '1. the agent works in the airlock (gVisor, default-deny policy)'
note "\$ airlock run --backend gvisor --policy airlock.yaml --workspace repo -- sh agent.sh"
set +e
(cd "$REPO" && "$AIRLOCK" run --backend gvisor --policy "$D/airlock.yaml" --workspace "$REPO" -- sh "$D/agent.sh") >"$D/agent-output.txt" 2>"$D/run-stderr.txt"
run_rc=$?
set -e
cat "$D/agent-output.txt"
note "(the agent exited with $run_rc)"

section '2. session summary (printed by airlock run)'
cat "$D/run-stderr.txt"
git -C "$REPO" status --porcelain --ignored > "$D/tree-after-session.txt"
changed=$(grep -v '^!! \.env$' "$D/tree-after-session.txt" | tr '\n' ' ' || true)
note "your tree after the session (git status): ${changed:-unchanged — the changes wait in the session layer}"

# ── 2. review ─────────────────────────────────────────────────────────────────────────────────
section '3. airlock diff last'
(cd "$REPO" && "$AIRLOCK" diff last) || die 'airlock diff failed'

section '4. airlock apply last --commit, on a PR branch'
git -C "$REPO" checkout -q -b agent/issue-1
note "\$ git checkout -b agent/issue-1 && airlock apply last --commit -m 'Fix slugify: no dash at either end (issue #1)'"
(cd "$REPO" && "$AIRLOCK" apply last --commit -m 'Fix slugify: no dash at either end (issue #1)') || die 'airlock apply failed'
git -C "$REPO" log --format='  %h %s%n%w(0,2,2)%b' -1 | sed '/^ *$/d'
note "\$ node --test   (the sample's tests, on the PR branch)"
if (cd "$REPO" && node --test >"$D/tests-after-apply.txt" 2>&1); then note "  $(grep -E '^# (pass|fail)' "$D/tests-after-apply.txt" | tr '\n' ' ')"; else note '  the tests fail:'; cat "$D/tests-after-apply.txt"; fi

section '5. airlock score --base main --sessions auto'
set +e
(cd "$REPO" && "$AIRLOCK" score --base main --sessions auto)
(cd "$REPO" && "$AIRLOCK" score --base main --sessions auto --format json) >"$D/score.json"
score_rc=$?
set -e
[ "$score_rc" = 0 ] || die "airlock score --format json failed (exit $score_rc)"

# ── 3. what the evidence says ─────────────────────────────────────────────────────────────────
section '6. contained? (computed from the log, the score and your repository)'
set +e
node "$EX/check.mjs" "$D" "$AIRLOCK"
check_rc=$?
set -e
note ''
note "everything is kept in $D (rm -rf it when done)"
exit "$check_rc"
