#!/usr/bin/env bash
# Installs the Debian packages zhusuan-ts needs (run as root or with sudo):
#   native backend  g++ make python3 libopenblas-dev pkg-config (pkg-config finds
#                   OpenBLAS' headers; without it the build probes the usual places)
#   lint            clang-format (the C++ formatting check of `npm run lint`)
#   tests           dataset-fashion-mnist (a second IDX dataset)
#   notebook        Debian's Jupyter (tslab itself comes from npm)
#   report          pdflatex with pgfplots, poppler-utils
#   viewer tests    chromium (headless; driven by playwright-core from npm)
#   examples        Boston housing, extracted from python3-sklearn (scripts/fetch-datasets.sh)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  g++ make python3 libopenblas-dev pkg-config
  clang-format
  dataset-fashion-mnist
  jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-notebook
  texlive-latex-recommended texlive-fonts-recommended texlive-pictures poppler-utils
  chromium
)
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
bash "$(dirname "$0")/fetch-datasets.sh"
