#!/usr/bin/env bash
# GPU benchmarks, one script:
#   benchmarks/gpu.sh CORPUS OUTDIR
# 1. throughput (row-sparse SGD and dense Adam) at the paper's sizes (50k words, K = 100, N = 64), G = 1 and G = 64, SGNS and PIXIE
#    (1280-d features), batches of CENTRES centres x 8 contexts, each figure beside the bound from
#    the compiled step's cost analysis (benchmarks/synthetic.py);
# 2. time to quality on CORPUS against gensim on the same machine's cores (benchmarks/time_to_quality.py):
#    the default recipe (each pass's tokens once, in a random order, every context of the reduced window,
#    the batch sized to the run: 8,192 + 1,024 centres for 3 passes of gutenberg8 at window 5 and threshold
#    3e-4), then the former default batch (2,048 + 256) and a larger one (65,536 text centres per step), and
#    16,384 with the former sampler (centres drawn with replacement, 8 contexts drawn each) for the comparison;
# 3. Table 2 at the paper's settings (configs/paper.py: N = 64, 5 passes, Adam 1e-2 decaying, the tables' b2 at
#    0.99; one seed) on CORPUS (benchmarks/reproduce.py --paper).
# 4. the tables sharded by rows (config.shard_tables=on): throughput at 1M words x K = 300 (N = 5, dense Adam,
#    16,384 centres), sharded and replicated, and the default time-to-quality run sharded.
# Installs nothing: run it where the project's dependencies (gensim too) and an accelerator build of
# jax are installed. Each part has its own time limit so one slow part cannot starve the others.
# Environment: PYTHON (python3), CENTRES (65536), TOKENS (50000000), CHUNKS (5), EPOCHS (3),
# PARTS ("synthetic ttq table2 sharded": the parts to run; all three take about 20 minutes with the default limits,
# so a 10-minute device call runs one or two of them), T_SYNTH, T_TTQ, T_BIG, T_TABLE2 (seconds per run).
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
parts=" ${PARTS:-synthetic ttq table2 sharded} "
[[ $parts == *" synthetic "* ]] && for opt in "sparse_sgd 0.025" "adam 0.01"; do
    set -- $opt
    for features in 0 1280; do
        timeout "${T_SYNTH:-85}" "$py" benchmarks/synthetic.py "${common[@]}" --optimizer "$1" --learning-rate "$2" \
            --features "$features" 2>&1 | tee "$out/synthetic_$1_$features.log"
    done
done
if [[ $parts == *" ttq "* ]]; then
timeout "${T_TTQ:-270}" "$py" benchmarks/time_to_quality.py --corpus "$corpus" --epochs "$epochs" \
    --out "$out/ttq_default" 2>&1 | tee "$out/ttq_default.log"
for batch in "2048 20" "65536 5"; do
    set -- $batch
    timeout "${T_BIG:-100}" "$py" benchmarks/time_to_quality.py --corpus "$corpus" --epochs "$epochs" --systems sgns pixie \
        --config.sampler.text_centres="$1" --config.sampler.visual_centres=$(($1 / 8)) \
        --config.steps_per_call="$2" --out "$out/ttq_$1" 2>&1 | tee "$out/ttq_$1.log"
done
timeout "${T_BIG:-100}" "$py" benchmarks/time_to_quality.py --corpus "$corpus" --epochs "$epochs" --systems sgns pixie \
    --config.sampler.text_centres=16384 --config.sampler.visual_centres=2048 --config.steps_per_call=10 \
    --config.sampler.shuffle=False --config.sampler.enumerate_window=False \
    --out "$out/ttq_16384_replacement" 2>&1 | tee "$out/ttq_16384_replacement.log"
fi
[[ $parts == *" table2 "* ]] && timeout "${T_TABLE2:-300}" "$py" benchmarks/reproduce.py --corpus "$corpus" --paper --seeds 0 \
    --tables 2 --set steps_per_call=20 --out "$out/table2" 2>&1 | tee "$out/table2.log"
if [[ $parts == *" sharded "* ]]; then
for shard in on off; do
    timeout "${T_SYNTH:-85}" "$py" benchmarks/synthetic.py --vocab 1000000 --dim 300 --negatives 5 --groups 1 \
        --centres 16384 --optimizer adam --learning-rate 0.01 --tokens "${TOKENS:-50000000}" --chunks "${CHUNKS:-5}" \
        --shard-tables "$shard" 2>&1 | tee "$out/synthetic_1m_shard_$shard.log"
done
timeout "${T_TTQ:-270}" "$py" benchmarks/time_to_quality.py --corpus "$corpus" --epochs "$epochs" --systems sgns pixie \
    --config.shard_tables=on --out "$out/ttq_sharded" 2>&1 | tee "$out/ttq_sharded.log"
fi
