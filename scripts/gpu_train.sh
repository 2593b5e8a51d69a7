#!/usr/bin/env bash
# Train a model end to end on a lent GPU machine, in the background, within one lease.
#
#   bash scripts/gpu_train.sh start CONFIG RUN     start every stage back to back; returns at once
#                                                  (STAGES="stage2 stage3 eval": only those)
#   bash scripts/gpu_train.sh data CONFIG RUN      only the clip generator, ahead of `start`
#   bash scripts/gpu_train.sh status RUN           progress (poll with short calls)
#   bash scripts/gpu_train.sh next RUN             end the running stage now (it saves and exports)
#   bash scripts/gpu_train.sh pack RUN DEST        the models -> DEST/stage{1,2,3}.tgz; metrics, logs
#                                                  and curves -> DEST/run.tgz
#   bash scripts/gpu_train.sh wait RUN SECS [DEST] block until DONE or FAILED or SECS, report every
#                                                  minute, then pack what exists into DEST
#
# AE_FROM=models/liveedit-tiny (with `start` or `data`): reuse that model's autoencoder as the
# run's stage 0 (weights, its card's held-out PSNR, its curve), so the generator encodes at once;
# run with STAGES="stage1 stage2 stage3 eval".
#
# A lent machine goes back 30 s after a call ends, and the run with it: issue the same `wait`
# call again the moment one returns (stop 15 lost a run to one pause between polls). Each `wait`
# packs into $OUT, so what finished before a lost machine still comes back.
#
# The machine needs no GUI packages: stages run through `python -m liveedit_app.cli.train`.
# Carry .scratch (photo bank, prompt table, platformdirs) with the call.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
export PYTHONPATH="$PWD:$PWD/.scratch/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export MPLBACKEND=Agg LIVEEDIT_HOME=${LIVEEDIT_HOME:-/tmp/liveedit-home}

# The clip generator yields the cores to the stages (torch.compile's workers, the trainer's own
# thread): in stop 14 it made clips faster than stage 3 used them while compiling took 109-116 s.
DATA_NICE=${DATA_NICE:-10}

stage() { "$PY" -m liveedit_app.cli.train "$@"; }

# The run's stage 0 from a model folder's autoencoder (AE_FROM): metrics last, as stage 0 does,
# since the generator starts encoding when they appear.
seed_ae() {
    local run=$1 from=${AE_FROM:-}
    [ -n "$from" ] && [ ! -f "$run/ae/metrics.json" ] || return 0
    mkdir -p "$run/ae"
    cp "$from/autoencoder.safetensors" "$run/ae/"
    cp "$from/training-curves/ae.png" "$run/ae/ae.png" 2>/dev/null || true
    "$PY" - "$from" "$run/ae/metrics.json" <<'PYEOF'
import json, sys
card = json.load(open(f"{sys.argv[1]}/model.json"))
ae = {k: v for k, v in card["training"]["stages"]["ae"].items() if not k.startswith("wall")}
json.dump({**ae, "psnr_heldout_db": card["benchmarks"]["autoencoder_psnr_heldout_db"],
           "reused_from": sys.argv[1]}, open(sys.argv[2], "w"), indent=1)
PYEOF
    echo "autoencoder from $from"
}

case "${1:-}" in
start)
    cfg=$2 run=$3
    mkdir -p "$run/pixels"
    seed_ae "$run"
    rm -f "$run/DONE" "$run/FAILED"
    setsid nohup bash "$0" pipeline "$cfg" "$run" >"$run/pipeline.log" 2>&1 </dev/null &
    echo "started: $run/pipeline.log"
    ;;
pipeline)
    cfg=$2 run=$3
    began=$(date +%s)
    if [ -f "$run/data.pid" ] && kill -0 "$(cat "$run/data.pid")" 2>/dev/null; then
        data_pid=$(cat "$run/data.pid")  # started earlier by `data`
    else
        nice -n "$DATA_NICE" "$PY" -m liveedit_app.cli.train data --config "$cfg" --out "$run" \
            >"$run/data.log" 2>&1 &
        data_pid=$!  # python itself, so that kill reaches it
    fi
    for s in ${STAGES:-ae stage1 stage2 stage3 eval}; do
        echo "=== $s at $(( $(date +%s) - began ))s"
        if ! stage "$s" --config "$cfg" --out "$run"; then
            echo "=== $s FAILED"
            touch "$run/FAILED"
            kill "$data_pid" 2>/dev/null || true
            exit 1
        fi
    done
    kill "$data_pid" 2>/dev/null || true
    echo "=== done at $(( $(date +%s) - began ))s"
    touch "$run/DONE"
    ;;
status)
    run=$2
    tail -n 6 "$run/pipeline.log" 2>/dev/null || true
    tail -n 2 "$run/data.log" 2>/dev/null || true
    ls "$run" | tr '\n' ' '; echo
    nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null || true
    ;;
data)
    cfg=$2 run=$3
    mkdir -p "$run"
    seed_ae "$run"
    setsid nohup nice -n "$DATA_NICE" "$PY" -m liveedit_app.cli.train data --config "$cfg" --out "$run" \
        >"$run/data.log" 2>&1 </dev/null &
    echo $! >"$run/data.pid"
    echo "generating: $run/data.log"
    ;;
next)
    touch "$2/NEXT_STAGE"
    ;;
wait)
    run=$2 secs=$3 dest=${4:-}
    end=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -lt "$end" ] && [ ! -f "$run/DONE" ] && [ ! -f "$run/FAILED" ]; do
        sleep 5
        if [ $(( ($(date +%s) - end + secs) % 60 )) -lt 5 ]; then
            grep '^===' "$run/pipeline.log" 2>/dev/null | tail -n 1 || true
        fi
    done
    bash "$0" status "$run"
    if [ -f "$run/DONE" ]; then echo "RUN DONE"; elif [ -f "$run/FAILED" ]; then echo "RUN FAILED"; \
        else echo "RUN GOING"; fi
    [ -z "$dest" ] || bash "$0" pack "$run" "$dest" >/dev/null
    ;;
pack)
    run=$2 dest=$3
    mkdir -p "$dest"
    # One archive per model: a 256-wide DiT is 8.9 MB, and a file coming back is at most 16 MiB.
    for s in stage1 stage2 stage3; do
        (cd "$run" && tar czf "$dest/$s.tgz" --ignore-failed-read "$s/model" 2>/dev/null) || true
    done
    (cd "$run" && tar czf "$dest/run.tgz" --ignore-failed-read eval ae/metrics.json \
        ./*/*.jsonl ./*/*.png ./*/metrics.json pipeline.log data.log 2>/dev/null) || true
    ls -la "$dest"
    ;;
*)
    sed -n '2,19p' "$0"
    exit 2
    ;;
esac
