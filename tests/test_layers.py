"""The package's layers: data flows one way, and no module imports one of a higher layer.

    0 helpers      files, download, resources, vectors, overrides, streams, checkpoints, validation, workdir, errors,
                   configs/* (the shipped config files)
    1 data         corpus, vocab, tokens, visual/*, io (embedding files), data
    2 models       model, sampling, objective, sparse, baselines/*, embeddings, registry
    3 evaluation   evaluate/* (reads arrays; knows no trainer)
    4 trainer      train
    5 experiments  experiment, outputs, propagation
    6 command line cli, supervise
"""
import ast
from pathlib import Path

from conftest import ROOT

LAYERS = {
    0: ("files", "download", "resources", "vectors", "overrides", "streams", "checkpoints", "validation",
        "workdir", "errors", "configs"),
    1: ("corpus", "vocab", "tokens", "visual", "io", "data"),
    2: ("model", "sampling", "objective", "sparse", "baselines", "embeddings", "registry"),
    3: ("evaluate",),
    4: ("train",),
    5: ("experiment", "outputs", "propagation"),
    6: ("cli", "supervise"),
}
LAYER = {name: layer for layer, names in LAYERS.items() for name in names}
PACKAGE = ROOT / "pixie_jax"


def top(module: str) -> str:
    """'pixie_jax.visual.features' -> 'visual'."""
    return module.split(".")[1]


def imported(path: Path) -> set[str]:
    """The pixie_jax modules ``path`` imports (anywhere in it, functions included), as top-level names."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {top(a.name) for a in node.names if a.name.startswith("pixie_jax.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pixie_jax"):
            out |= {top(node.module)} if "." in node.module else {a.name for a in node.names}
    return out


def test_every_module_has_a_layer():
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and any(p.glob("*.py")))}
    assert names == set(LAYER), names ^ set(LAYER)


def test_no_module_imports_a_higher_layer():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        own = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        if own == "__init__":
            continue
        for name in imported(path):
            if LAYER[name] > LAYER[own]:
                wrong.append(f"{rel} (layer {LAYER[own]}) imports {name} (layer {LAYER[name]})")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pixie_jax import train\n    import pixie_jax.cli\n")
    assert imported(bad) == {"train", "cli"}
