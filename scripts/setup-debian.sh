#!/usr/bin/env bash
# Installs airlock's OS dependencies on Debian 12 (bookworm): bubblewrap, bpftrace and strace (process
# events on bubblewrap), socat, iproute2,
# and gVisor's runsc from bookworm-backports (the bookworm build has a statx bug that breaks `ls`).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > /etc/apt/sources.list.d/airlock-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq bubblewrap bpftrace strace socat iproute2 git ca-certificates >/dev/null
apt-get install -y -qq -t bookworm-backports runsc >/dev/null
runsc --version | head -1
bwrap --version
