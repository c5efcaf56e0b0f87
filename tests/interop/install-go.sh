#!/usr/bin/env bash
# Install what tests/interop needs: Go and Debian's packages of golang.org/x/mod (sumdb/note,
# sumdb/tlog) and golang.org/x/crypto, which the Go verifier builds against in GOPATH mode
# (GO111MODULE=off GOPATH=/usr/share/gocode; the Go module proxy is not reachable here).
#
# Idempotent: does nothing when `go` and the packages are already there. Needs root (or sudo)
# for apt-get; without either it says so and exits 0, and the interop tests skip themselves.
set -euo pipefail
source "$(dirname "$0")/../../scripts/apt.sh"

GOCODE=/usr/share/gocode/src/golang.org/x/mod/sumdb
if command -v go >/dev/null 2>&1 && [ -d "$GOCODE/note" ] && [ -d "$GOCODE/tlog" ]; then
    exit 0
fi
apt_install install-go.sh "install Go and golang.org/x/mod by hand to run tests/interop (they will be skipped)" \
    golang-go golang-golang-x-mod-dev golang-golang-x-crypto-dev
command -v go >/dev/null 2>&1 && go version || true
