#!/usr/bin/env bash
# Install what PDF Risk Reports need from Debian: Pango (WeasyPrint lays pages out with it),
# a font, and poppler-utils (pdftoppm, to look at rendered editions). Idempotent: does
# nothing when they are there. Needs root (or sudo) for apt-get; without either it says so
# and exits 0 (the PDF tests then fail in CI, where they must run).
set -euo pipefail

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-pdf-deps.sh: not root and no sudo; install ${missing[*]} by hand" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-pdf-deps.sh: no apt-get; install Pango and a font by hand for PDF editions" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
