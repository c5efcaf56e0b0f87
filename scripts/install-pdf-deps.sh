#!/usr/bin/env bash
# Install what PDF Risk Reports need from Debian: Pango (WeasyPrint lays pages out with it),
# a font, and poppler-utils (pdftoppm, to look at rendered editions). Idempotent: does
# nothing when they are there. Needs root (or sudo) for apt-get; without either it says so
# and exits 0 (the PDF tests then fail in CI, where they must run).
set -euo pipefail
source "$(dirname "$0")/apt.sh"

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
apt_install install-pdf-deps.sh "install ${missing[*]} by hand for PDF editions" "${missing[@]}"
