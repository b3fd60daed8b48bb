#!/usr/bin/env bash
# Throughput on one accelerator at the paper's sizes (50k words, K = 100, N = 64), G = 1 and G = 64,
# SGNS and PIXIE (1280-d features), batches of 65,536 centres x 8 contexts; each figure beside the
# bound from the compiled step's cost analysis. Installs nothing: run it where the project's
# dependencies and an accelerator build of jax are installed. Prints one JSON line last.
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--vocab 50000 --dim 100 --negatives 64 --groups 1 64 --centres 65536 --tokens 50000000 --chunks 5)
python benchmarks/synthetic.py "${common[@]}" --features 0 | tail -1 > "${TMPDIR:-/tmp}/pixie_gpu_sgns.json"
python benchmarks/synthetic.py "${common[@]}" --features 1280 | tail -1 > "${TMPDIR:-/tmp}/pixie_gpu_pixie.json"
python - "${TMPDIR:-/tmp}/pixie_gpu_sgns.json" "${TMPDIR:-/tmp}/pixie_gpu_pixie.json" <<'PY'
import json, sys
sgns, pixie = (json.load(open(p)) for p in sys.argv[1:])
print(json.dumps({"sgns": sgns, "pixie": pixie}))
PY
