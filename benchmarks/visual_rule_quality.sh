#!/usr/bin/env bash
# Which visual-word rule trains better embeddings: feature files by the closure rule and by the paper's
# rule (with and without the hypernym top-up), PIXIE trained with each on the same corpus and seed, all
# scored with SGNS on the same pairs (each rule's visual words define its "visual" setting).
#
#   benchmarks/visual_rule_quality.sh SOURCE.npz CORPUS_FOR_VOCAB TRAIN_CORPUS BENCHMARK_DIRS OUT [SEED]
#   e.g. benchmarks/visual_rule_quality.sh imagenet_sample_images.npz gutenberg8.xz bundled "bundled semsim_vissim mturk287" runs/rules
set -euo pipefail
source=$1; vocab_corpus=$2; corpus=$3; benches=$4; out=$5; seed=${6:-0}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
build() { python "$here/bin/build-visual-features" --source "$source" --corpus "$vocab_corpus" --max-vocab 50000 --out "$out/$1.npz" "${@:2}" | tail -n 4 > "$out/$1.coverage.txt"; }
build closure --rule closure
build paper --rule paper
build paper_no_topup --rule paper --topup-levels 0
train() { python "$here/bin/train" --config "$here/configs/$1.py" --workdir "$out/$2" --config.corpus="$corpus" \
  --config.seed="$seed" --config.progress=False --config.benchmarks= "${@:3}" > "$out/$2.log" 2>&1; }
train sgns sgns --config.features=
for rule in closure paper paper_no_topup; do
  train pixie "pixie_$rule" --config.features="$out/$rule.npz"
done
for rule in closure paper paper_no_topup; do
  echo "## features by the $rule rule"
  python "$here/bin/evaluate" --benchmarks $benches --features "$out/$rule.npz" \
    --embeddings sgns="$out/sgns/embeddings.npz" pixie="$out/pixie_$rule/embeddings.npz" --json "$out/$rule.scores.json"
done
