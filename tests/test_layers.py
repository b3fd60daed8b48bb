"""The package's layers: data flows one way, and no module imports one of a higher layer.

0 helpers      files, download, resources, vectors, overrides, prng, checkpoints, validation, workdir, errors
1 data         corpus, vocab, tokens, visual/*, embedding_files, training_data
2 trainer      rows, sampling, sparse, learner, step, optimizers, train (trains the Learner it is handed;
               sampling and the row tables are the skip-gram library the models call)
3 models       model, objective, modelspec, pixie, baselines/*, embeddings, registry,
               configs/* (the shipped config files: run by path, a baseline's section taken from its module)
4 evaluation   evaluate/* (reads arrays; knows no trainer and no model)
5 experiments  experiment, outputs, propagation
6 command line cli, supervise
"""

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LAYERS = {
    0: (
        "files",
        "download",
        "resources",
        "vectors",
        "overrides",
        "prng",
        "checkpoints",
        "validation",
        "workdir",
        "errors",
    ),
    1: ("corpus", "vocab", "tokens", "visual", "embedding_files", "training_data"),
    2: ("rows", "sampling", "sparse", "learner", "step", "optimizers", "train"),
    3: ("model", "objective", "modelspec", "pixie", "baselines", "embeddings", "registry", "configs"),
    4: ("evaluate",),
    5: ("experiment", "outputs", "propagation"),
    6: ("cli", "supervise"),
}
MODELS = set(LAYERS[3]) - {"configs"}
LAYER = {name: layer for layer, names in LAYERS.items() for name in names}
PACKAGE = ROOT / "pixie_jax"


def top(module: str) -> str:
    """'pixie_jax.visual.features' -> 'visual'."""
    return module.split(".")[1]


def imported(path: Path, root: Path = PACKAGE) -> set[str]:
    """The pixie_jax modules ``path`` imports (anywhere in it, functions included; absolute imports, and
    relative ones resolved against its place under the package folder ``root``), as top-level names."""
    inside = path.resolve().is_relative_to(root.resolve())
    package = ("pixie_jax",) + (path.resolve().relative_to(root.resolve()).parts[:-1] if inside else ())
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {top(a.name) for a in node.names if a.name.startswith("pixie_jax.")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the file's own package
                base = ".".join(package[: len(package) - node.level + 1] + ((base,) if base else ()))
            if base == "pixie_jax":
                out |= {a.name for a in node.names}
            elif base.startswith("pixie_jax."):
                out.add(top(base))
    return out


def test_every_module_has_a_layer():
    names = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and any(p.glob("*.py")))
    }
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
    inside = tmp_path / "pixie_jax" / "evaluate" / "probe.py"  # relative imports count too
    inside.parent.mkdir(parents=True)
    inside.write_text("from .. import registry\nfrom ..baselines import vsgns\nfrom . import similarity\n")
    assert imported(inside, tmp_path / "pixie_jax") == {"registry", "baselines", "evaluate"}


def loaded(*modules: str) -> set[str]:
    """The model modules (and flax.linen) in sys.modules of a fresh process that imported ``modules``."""
    code = (
        f"import sys, {', '.join(modules)}; "
        "print(' '.join(n for n in sys.modules if n == 'flax.linen' or "
        f"(n.startswith('pixie_jax.') and n.split('.')[1] in {sorted(MODELS)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_the_trainer_loads_no_model_and_no_flax_linen():
    """What is loaded, not only what is written: importing the trainer (the loop, the step, the
    optimizers, the protocol) brings in no model module and not flax.linen."""
    assert loaded("pixie_jax.train", "pixie_jax.step", "pixie_jax.optimizers", "pixie_jax.learner") == set()


def test_similarity_and_analogies_load_no_model():
    assert loaded("pixie_jax.evaluate.similarity", "pixie_jax.evaluate.analogy") == set()


def test_the_loaded_check_sees_a_model():
    assert {"pixie_jax.model", "flax.linen"} <= loaded("pixie_jax.objective")


def test_evaluation_and_the_trainer_import_no_model():
    """Evaluation reads arrays and the trainer runs a learner it is handed: neither imports a model module
    nor the registry."""
    wrong = [
        f"{p.relative_to(PACKAGE)} imports {sorted(imported(p) & MODELS)}"
        for p in [*sorted((PACKAGE / "evaluate").glob("*.py")), *(PACKAGE / f"{m}.py" for m in LAYERS[2])]
        if imported(p) & MODELS
    ]
    assert not wrong, "\n".join(wrong)
