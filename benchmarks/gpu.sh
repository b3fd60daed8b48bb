#!/usr/bin/env bash
# The device benchmark of today's code, one call (about 9 minutes with the default limits on one GPU):
#   benchmarks/gpu.sh CORPUS OUTDIR
# 1. throughput (benchmarks/synthetic.py): SGNS and PIXIE (1280-d features) at VOCAB words x K = DIM, N = 5
#    and N = 64, G = 1, CENTRES text centres a step with today's sampler (each token once a pass, every
#    context of the reduced window), dense Adam; every entry on its own and each distinct row once a step;
#    then SGNS with lazy Adam at N = 5 both ways; each figure beside the bound of the compiled step's cost
#    analysis (a part cut short by its limit keeps the settings it finished);
# 2. time to quality on CORPUS (benchmarks/time_to_quality.py): gensim's skip-gram on all the machine's
#    cores against our SGNS and PIXIE, EPOCHS passes, at the accelerator recipe (configs/pixie.py: the
#    batch sized to the run) and at configs/paper.py's settings (N = 64, window 10, 16,384 + 2,048 centres);
# 3. OUTDIR/gpu.json: both, summarised (benchmarks/gpu_summary.py); the curves are in
#    OUTDIR/ttq/time_to_quality.png.
# Installs nothing: run it where the project's dependencies (gensim too) and an accelerator build of jax
# are installed. Each part has its own time limit, so one slow part cannot starve the others. CORPUS:
# gutenberg8.xz (a file of the shared data, 24 MB: copy it into an ignored folder of the checkout and carry
# that folder) gives the figures RESULTS reports; 'bundled' needs nothing carried but is too small for
# configs/paper.py's batch to learn in 3 passes.
# Environment: PYTHON (python3), VOCAB (50000), DIM (100), CENTRES (16384), TOKENS (20000000), CHUNKS (5),
# EPOCHS (3), EVALS (2 a pass), PARTS ("throughput ttq"), T_SYNTH (100 s a model), T_TTQ (270 s),
# TTQ_EXTRA (more time_to_quality.py arguments) and PAPER_EXTRA (KEY=VALUE after the paper's settings);
# tests/test_gpu_script.py shrinks everything through these and runs it on the CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
corpus=${1:?usage: benchmarks/gpu.sh CORPUS OUTDIR}
out=${2:?usage: benchmarks/gpu.sh CORPUS OUTDIR}
py=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
parts=" ${PARTS:-throughput ttq} "
if [[ $parts == *" throughput "* ]]; then
    synthetic() {  # name, then synthetic.py's arguments beyond the shared ones
        local name=$1
        shift
        timeout "${T_SYNTH:-100}" "$py" benchmarks/synthetic.py --vocab "${VOCAB:-50000}" --dim "${DIM:-100}" \
            --groups 1 --rows every once --centres "${CENTRES:-16384}" --tokens "${TOKENS:-20000000}" \
            --chunks "${CHUNKS:-5}" --learning-rate 0.01 "$@" 2>&1 | tee "$out/synthetic_$name.log"
    }
    synthetic 0 --negatives 5 64 --optimizer adam --features 0
    synthetic 1280 --negatives 5 64 --optimizer adam --features 1280
    synthetic lazy --negatives 5 --optimizer lazy_adam --features 0
fi
if [[ $parts == *" ttq "* ]]; then
    # configs/paper.py's settings that a time-to-quality run takes (its passes and vocabulary are the run's)
    paper=$("$py" -c "from pixie_jax.overrides import paper_settings as p; skip = ('epochs', 'steps_per_call', \
'checkpoint_every', 'max_vocab'); print(' '.join(f'{k}={v}' for k, v in p().items() if k not in skip))")
    # shellcheck disable=SC2086
    timeout "${T_TTQ:-270}" "$py" benchmarks/time_to_quality.py --corpus "$corpus" --epochs "${EPOCHS:-3}" \
        --evals-per-epoch "${EVALS:-2}" --systems gensim sgns pixie --recipe paper $paper ${PAPER_EXTRA:-} \
        ${TTQ_EXTRA:-} \
        --out "$out/ttq" 2>&1 | tee "$out/ttq.log"
fi
"$py" benchmarks/gpu_summary.py "$out"
