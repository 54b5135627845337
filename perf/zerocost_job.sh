#!/bin/bash
# The zero-cost table job on the CPU, cheap proxies for all cells first (resumable: rerun to continue;
# see the README, "Zero-cost proxies"). JOBS processes (default: one per core) share each step.
# Run from the repository root:  nohup nice -n 10 perf/zerocost_job.sh >> results/zerocost/job.log 2>&1 &
# Then ship what is done:        .venv/bin/hpo2nas zerocost pack --dataset D results/zerocost/D.jsonl
set -e
cd "$(dirname "$0")/.."
mkdir -p results/zerocost
JOBS=${JOBS:-$(nproc)}
run() {  # run DATASET ARGS...: one step, split over JOBS processes appending to one checkpoint
    local pids=() k
    for ((k = 0; k < JOBS; k++)); do
        .venv/bin/hpo2nas zerocost compute --checkpoint "results/zerocost/$1.jsonl" --dataset "$@" \
            --shard "$k/$JOBS" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}
NL=results/zerocost/naslib_cifar10-valid_cells.txt
SHARED=../shared/data/nb201/naslib_zc_nasbench201.json
if [ ! -f "$NL" ] && [ -f "$SHARED" ]; then  # NASLib's cells first: they make the comparison table
    .venv/bin/python -c "
import sys, numpy as np; from pathlib import Path
from benchmarks.zerocost._quality import read_naslib_zc
acc = read_naslib_zc(Path(sys.argv[1]), 'cifar10-valid')['val_accuracy']
Path(sys.argv[2]).write_text(' '.join(map(str, np.flatnonzero(np.isfinite(acc)))))" "$SHARED" "$NL"
fi
BATCH=grad_norm,snip,fisher,nwot,jacov,zen
if [ -f "$NL" ]; then
    run cifar10-valid --proxies synflow --cells "$NL"
    run cifar10-valid --proxies "$BATCH" --cells "$NL"
fi
run cifar10-valid --proxies synflow
run cifar10-valid --proxies "$BATCH"
if [ -f "$NL" ]; then run cifar10-valid --proxies grasp --cells "$NL"; fi
run cifar10-valid --proxies grasp
run ImageNet16-120 --proxies "synflow,$BATCH,grasp" --first 3000
run cifar100 --proxies "synflow,$BATCH,grasp" --first 3000
run ImageNet16-120 --proxies "synflow,$BATCH,grasp"
run cifar100 --proxies "synflow,$BATCH,grasp"
