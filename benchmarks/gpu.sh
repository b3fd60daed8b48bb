#!/usr/bin/env bash
# GPU benchmarks, one script:
#   benchmarks/gpu.sh CORPUS OUTDIR
# 1. throughput (row-sparse SGD and dense Adam) at the paper's sizes (50k words, K = 100, N = 64), G = 1 and G = 64, SGNS and PIXIE
#    (1280-d features), batches of CENTRES centres x 8 contexts, each figure beside the bound from
#    the compiled step's cost analysis (benchmarks/synthetic.py);
# 2. time to quality on CORPUS against gensim on the same machine's cores (benchmarks/time_to_quality.py):
#    the default recipe, then larger batches (16,384 and 65,536 text centres per step).
# Installs nothing: run it where the project's dependencies (gensim too) and an accelerator build of
# jax are installed. Each part has its own time limit so one slow part cannot starve the others.
# Environment: PYTHON (python3), CENTRES (65536), TOKENS (50000000), CHUNKS (5), EPOCHS (3).
set -uo pipefail
cd "$(dirname "$0")/.."
corpus=${1:?usage: benchmarks/gpu.sh CORPUS OUTDIR}
out=${2:?usage: benchmarks/gpu.sh CORPUS OUTDIR}
py=${PYTHON:-python3}
epochs=${EPOCHS:-3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
common=(--vocab 50000 --dim 100 --negatives 64 --groups 1 64 --centres "${CENTRES:-65536}"
        --tokens "${TOKENS:-50000000}" --chunks "${CHUNKS:-5}")
for opt in "sparse_sgd 0.025" "adam 0.01"; do
    set -- $opt
    for features in 0 1280; do
        timeout "${T_SYNTH:-85}" "$py" benchmarks/synthetic.py "${common[@]}" --optimizer "$1" --learning-rate "$2" \
            --features "$features" 2>&1 | tee "$out/synthetic_$1_$features.log"
    done
done
timeout "${T_TTQ:-270}" "$py" benchmarks/time_to_quality.py --corpus "$corpus" --epochs "$epochs" \
    --out "$out/ttq_default" 2>&1 | tee "$out/ttq_default.log"
for batch in "16384 10" "65536 5"; do
    set -- $batch
    timeout "${T_BIG:-100}" "$py" benchmarks/time_to_quality.py --corpus "$corpus" --epochs "$epochs" --systems sgns pixie \
        --config.sampler.text_centres="$1" --config.sampler.visual_centres=$(($1 / 8)) \
        --config.steps_per_call="$2" --out "$out/ttq_$1" 2>&1 | tee "$out/ttq_$1.log"
done
