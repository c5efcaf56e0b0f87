#!/usr/bin/env bash
# Install what tests/interop needs: Go and Debian's packages of golang.org/x/mod (sumdb/note,
# sumdb/tlog) and golang.org/x/crypto, which the Go verifier builds against in GOPATH mode
# (GO111MODULE=off GOPATH=/usr/share/gocode; the Go module proxy is not reachable here).
#
# Idempotent: does nothing when `go` and the packages are already there. Needs root (or sudo)
# for apt-get; without either it says so and exits 0, and the interop tests skip themselves.
set -euo pipefail

GOCODE=/usr/share/gocode/src/golang.org/x/mod/sumdb
if command -v go >/dev/null 2>&1 && [ -d "$GOCODE/note" ] && [ -d "$GOCODE/tlog" ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-go.sh: not root and no sudo; the Go interop tests will be skipped" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-go.sh: no apt-get; install Go and golang.org/x/mod by hand to run tests/interop" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends \
    golang-go golang-golang-x-mod-dev golang-golang-x-crypto-dev >/dev/null
go version
