#!/usr/bin/env bash
# Install the Debian packages estrategia needs, if any are missing.
#   scripts/system-packages.sh run    what `make run` needs
#   scripts/system-packages.sh test   that, plus what the test suite needs
# As root it installs them with apt-get; otherwise it prints the exact command and fails.
set -euo pipefail

run_pkgs=(
  libreoffice-writer-nogui python3-uno      # DOCX -> PDF/A, kept warm
  fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation2 fonts-dejavu-core
  poppler-utils                             # pdftotext/pdffonts/pdfsig
  ocrmypdf tesseract-ocr-pol                # OCR of scanned agreements imported into the archive
)
test_pkgs=(
  postgresql                                # the suite also runs against PostgreSQL
  softhsm2 opensc                           # a real PKCS#11 token
  libnss3-tools                             # certutil: an NSS db trusting the test root for pdfsig
  chromium                                  # the browser tests (Playwright drives Debian's Chromium)
)

want=("${run_pkgs[@]}")
[ "${1:-run}" = "test" ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages. Run as root:" >&2
  echo "  apt-get update && $cmd" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends ${missing[*]} >/dev/null
