#!/usr/bin/env bash
# A one-minute check on a lent GPU machine that the background clip generator encodes its blocks
# with an existing autoencoder (the path every training run takes once stage 0 has finished):
# prints its log lines (clips/s, "encoded") and the latent block files it wrote.
#
#   bash scripts/gpu_smoke_data.sh [SECONDS] [CLIPS]
#
# Needs .scratch/ (photo bank, prompt table, site packages) and .scratch/cont/ae (an autoencoder
# run folder with metrics.json) carried with the call.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60} clips=${2:-1536}
PY=${PY:-python3}
export PYTHONPATH="$PWD:$PWD/.scratch/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export MPLBACKEND=Agg LIVEEDIT_HOME=${LIVEEDIT_HOME:-/tmp/liveedit-home}
run=$(mktemp -d /tmp/smoke-data.XXXX)
cp -r .scratch/cont/ae "$run/ae"
sed -e "s/^clips = .*/clips = $clips/" configs/tiny.toml >"$run/smoke.toml"
timeout "$seconds" "$PY" -m liveedit_app.cli.train data --config "$run/smoke.toml" --out "$run" \
    || echo "(stopped after ${seconds}s)"
ls -la "$run/pixels"
du -sh "$run"
