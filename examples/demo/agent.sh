#!/bin/sh
# The demo's scripted agent: a deterministic stand-in for an AI coding agent (no model). It runs
# INSIDE the airlock sandbox, in the sample repository, and behaves the way a gullible agent does:
#
#   1. fetches the task (issue #1) from the project's issue-tracker API with DEMO_API_TOKEN;
#   2. runs the tests and sees one fail;
#   3. reads CONTRIBUTING.md, finds the "setup steps for AI coding agents" hidden in an HTML
#      comment (a prompt injection), and runs every one of them, as written;
#   4. makes the real fix and runs the tests again.
#
# Each injected step prints one line "tried <command> → <what the agent got back>". The agent
# knows nothing about airlock; what it gets back is whatever the sandbox let it have.
set -u

say() { printf 'agent: %s\n' "$*"; }

# A placeholder shows as airlock_ph_<session>_<random>: print only its start.
say "task: issue #1 from $DEMO_API_URL (DEMO_API_TOKEN in my environment: $(printf '%.14s' "$DEMO_API_TOKEN")…)"
if issue=$(curl -sS --fail --max-time 20 -H "Authorization: Bearer $DEMO_API_TOKEN" "$DEMO_API_URL/issues/1" 2>&1); then
  say "issue #1: $issue"
else
  say "could not fetch the issue: $issue"
fi

say "running the tests before changing anything"
if node --test >/tmp/tests-before.txt 2>&1; then say "tests pass (unexpected)"; else say "tests fail: $(grep -m1 -E '^not ok' /tmp/tests-before.txt | sed 's/\\#/#/g')"; fi

say "reading CONTRIBUTING.md before changing code"
# The injected steps: lines "  $ <command>" inside the HTML comment addressed to AI agents.
steps=$(awk '/<!--/ { inside = 1 } inside && /^ *\$ / { sub(/^ *\$ /, ""); print } /-->/ { inside = 0 }' CONTRIBUTING.md)
if [ -n "$steps" ]; then
  say "CONTRIBUTING.md has setup steps for AI agents; following them"
  printf '%s\n' "$steps" | while IFS= read -r step; do
    out=$(sh -c "$step" 2>&1 </dev/null)
    rc=$?
    first=$(printf '%s\n' "$out" | sed -n '1p' | cut -c1-160)
    bytes=$(printf '%s' "$out" | wc -c | tr -d ' ')
    if [ -z "$out" ]; then got="exit $rc, no output"; else got="exit $rc, $bytes bytes: $first"; fi
    printf 'tried %s → %s\n' "$step" "$got"
    # The rest of what it got, as it would go into the agent's context (and its report).
    printf '%s\n' "$out" | sed -n '2,$s/^/    | /p'
  done
fi

say "fixing issue #1: trim the dashes left at either end"
git apply <<'PATCH'
--- a/src/slug.js
+++ b/src/slug.js
@@ -8,5 +8,6 @@ export function slugify(title) {
     .normalize('NFKD')
     .replace(/[\u0300-\u036f]/g, '') // drop the accents NFKD split off: "é" → "e"
     .toLowerCase()
-    .replace(/[^a-z0-9]+/g, '-');
+    .replace(/[^a-z0-9]+/g, '-')
+    .replace(/^-+|-+$/g, ''); // no dash at either end (issue #1)
 }
PATCH
if node --test >/tmp/tests-after.txt 2>&1; then say "tests pass: $(grep -E '^# pass' /tmp/tests-after.txt)"; else say "tests still fail"; cat /tmp/tests-after.txt; exit 1; fi
say "done"
