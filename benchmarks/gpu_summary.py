"""The device benchmark's results in one JSON: throughput beside the bound, and time to gensim's quality.

    python benchmarks/gpu_summary.py OUTDIR        (benchmarks/gpu.sh runs it last) -> OUTDIR/gpu.json

throughput  from OUTDIR/synthetic_0.log (SGNS, dense Adam), synthetic_1280.log (PIXIE) and synthetic_lazy.log
            (SGNS, lazy Adam), the last JSON line each wrote: per setting (N, G, rows once or every),
            pairs/s, the bound and pairs/s as a share of it. A run stopped by its time limit keeps the
            settings it finished (their own lines, "KEY: {...}") and says which it did not.
quality     from OUTDIR/ttq/time_to_quality.json: gensim's last epoch (its mean of five, its seconds), and
            for each of our systems the seconds at which its mean of five reaches gensim's, the seconds at
            which each of the five sets is at or above gensim's (the first evaluation where all are), both
            also as a share of gensim's seconds, and its last evaluation.
A part that did not run (or ran out of time) is recorded as missing, with the log's last line.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.time_to_quality import BENCHMARKS, mean_of_five, reached

MODELS = {"0": "sgns", "1280": "pixie", "lazy": "sgns_lazy_adam"}  # synthetic_<key>.log
SETTING_LINE = re.compile(r"^(N\d+_G\d+_\w+): (\{.*\})$")  # what synthetic.py prints after each setting


def last_json(path: Path) -> dict | None:
    """The last line of ``path`` that parses as a JSON object; None where there is none."""
    if not path.exists():
        return None
    for line in reversed(path.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def last_line(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines() if path.exists() else []
    return lines[-1] if lines else f"{path.name}: no output"


def finished_settings(path: Path) -> dict:
    """The settings a synthetic.py log printed one by one ("N5_G1_every: {...}"), for a run cut short."""
    found = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []:
        match = SETTING_LINE.match(line.strip())
        if match:
            try:
                found[match.group(1)] = ast.literal_eval(match.group(2))
            except (ValueError, SyntaxError):
                continue
    return found


def throughput(out: Path) -> dict:
    result = {}
    for features, model in MODELS.items():
        log = out / f"synthetic_{features}.log"
        if not log.exists():
            continue
        run = last_json(log)
        found = run["settings"] if run is not None else finished_settings(log)
        if not found:
            result[model] = {"missing": last_line(log)}
            continue
        settings = {}
        for key, r in found.items():
            bound = r.get("bound_pairs_per_s")
            settings[key] = {
                "pairs_per_s": round(r["pairs_per_s"]),
                "bound_pairs_per_s": round(bound) if bound else None,
                "share_of_bound": round(r["pairs_per_s"] / bound, 4) if bound else None,
                "bound_by": r.get("bound_by"),
            }
        result[model] = {"settings": settings} | (
            {"device": run["device"], "vocab": run["vocab"], "dim": run["dim"]}
            if run is not None
            else {"cut_short": f"the time limit ended the run; {last_line(log)}"}
        )
    return result


def all_five_at(rows: list[dict], last: dict) -> float | None:
    """Seconds of the first evaluation where every one of the five sets is at or above ``last``'s."""
    return next((r["seconds"] for r in rows if all(r[b] >= last[b] for b in BENCHMARKS)), None)


def quality(out: Path) -> dict:
    path = out / "ttq" / "time_to_quality.json"
    if not path.exists():
        return {"missing": last_line(out / "ttq.log")}
    record = json.loads(path.read_text(encoding="utf-8"))
    results = record["results"]
    if "gensim" not in results:
        return {"missing": "no gensim run"}
    last = results["gensim"][-1]
    seconds = last["seconds"]
    share = lambda s: round(s / seconds, 4) if s is not None and seconds else None  # noqa: E731
    out_ = {
        "command": record.get("command"),
        "machine": record.get("machine"),
        "gensim": {"epochs": last["epoch"], "seconds": round(seconds, 2), "mean_of_five": round(mean_of_five(last), 4)},
        "ours": {},
    }
    for system, rows in results.items():
        if system == "gensim":
            continue
        mean_at, five_at = reached(rows, mean_of_five(last)), all_five_at(rows, last)
        out_["ours"][system] = {
            "seconds_to_gensims_mean": None if mean_at is None else round(mean_at, 2),
            "share_to_gensims_mean": share(mean_at),
            "seconds_to_all_five": five_at if five_at is None else round(five_at, 2),
            "share_to_all_five": share(five_at),
            "last": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[-1].items()},
        }
    return out_


def main(argv=None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python benchmarks/gpu_summary.py OUTDIR")
    out = Path(args[0])
    summary = {"throughput": throughput(out), "quality": quality(out)}
    (out / "gpu.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
