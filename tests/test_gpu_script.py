"""benchmarks/gpu.sh, the device benchmark, end to end on the CPU at tiny sizes: every part runs and the
summary holds each figure, so that nothing in it fails on arrival at a device."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, bundled_slice, xla_flags


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("gensim") is None, reason="gensim (the test extra) is not installed"
)
def test_the_device_script_runs_end_to_end_at_tiny_sizes(tmp_path):
    corpus, _ = bundled_slice(tmp_path, 250_000)
    env = dict(
        os.environ,
        XLA_FLAGS=xla_flags(1),
        PYTHON=sys.executable,
        VOCAB="2000",
        DIM="8",
        CENTRES="64",
        TOKENS="50000",
        CHUNKS="1",
        EPOCHS="1",
        EVALS="1",
        TTQ_EXTRA="--our-epochs 0.2 --config.sampler.text_centres=256 --config.model.dim=16",
        PAPER_EXTRA="sampler.text_centres=256 sampler.visual_centres=32 model.dim=16",
    )
    out = tmp_path / "out"
    done = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu.sh"), str(corpus), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "gpu.json").read_text())
    for model in ("sgns", "pixie"):
        settings = summary["throughput"][model]["settings"]
        assert sorted(settings) == ["N5_G1_every", "N5_G1_once", "N64_G1_every", "N64_G1_once"], summary
        assert all(s["pairs_per_s"] > 0 for s in settings.values())
    assert sorted(summary["throughput"]["sgns_lazy_adam"]["settings"]) == ["N5_G1_every", "N5_G1_once"]
    quality = summary["quality"]
    assert quality["gensim"]["seconds"] > 0 and quality["gensim"]["epochs"] == 1
    assert sorted(quality["ours"]) == ["pixie (ours)", "pixie paper (ours)", "sgns (ours)", "sgns paper (ours)"]
    assert "sampler.negatives=64" in quality["command"] and "sampler.window=10" in quality["command"]
    assert (out / "ttq" / "time_to_quality.png").exists()


def test_the_summary_keeps_the_settings_a_run_cut_short_finished(tmp_path):
    """A synthetic.py run stopped by its time limit wrote no final JSON: the settings it printed are kept."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import gpu_summary

    (tmp_path / "synthetic_1280.log").write_text(
        "compiling\nN5_G1_every: {'pairs_per_s': 111.0, 'bound_pairs_per_s': 200.0, 'bound_by': 'memory'}\n"
        "N64_G1_every: {'pairs_per_s'"
    )
    (tmp_path / "synthetic_0.log").write_text("Terminated\n")
    result = gpu_summary.throughput(tmp_path)
    assert result["pixie"]["settings"] == {
        "N5_G1_every": {"pairs_per_s": 111, "bound_pairs_per_s": 200, "share_of_bound": 0.555, "bound_by": "memory"}
    }
    assert "time limit" in result["pixie"]["cut_short"]
    assert result["sgns"] == {"missing": "Terminated"} and "sgns_lazy_adam" not in result
