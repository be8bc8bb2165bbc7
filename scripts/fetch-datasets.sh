#!/usr/bin/env bash
# Extracts the small tabular datasets the examples use from Debian's
# python3-sklearn package into data/sklearn/ (ignored by git), without
# installing the package or any Python: `apt-get download` fetches the .deb
# from the Debian mirror and dpkg-deb unpacks the CSV files alone.
#   data/sklearn/boston_house_prices.csv   Boston housing (506 x 13 + target)
# Run by scripts/install-system-deps.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=data/sklearn
FILES=(boston_house_prices.csv)
if [ -f "$OUT/${FILES[0]}" ]; then exit 0; fi
TMP=$(mktemp -d)
chmod 777 "$TMP" # apt-get download writes as the _apt user
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && apt-get download python3-sklearn >/dev/null)
mkdir -p "$TMP/x" "$OUT"
dpkg-deb -x "$TMP"/python3-sklearn_*.deb "$TMP/x"
SRC="$TMP/x/usr/lib/python3/dist-packages/sklearn/datasets/data"
for f in "${FILES[@]}"; do cp "$SRC/$f" "$OUT/$f"; done
echo "fetch-datasets: $(ls "$OUT" | tr '\n' ' ')from $(basename "$TMP"/python3-sklearn_*.deb)"
