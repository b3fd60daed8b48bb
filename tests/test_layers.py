"""The package's layers: data flows one way, and no module imports one of a higher layer. The
folders are the layers; a few modules of their own sit at the top of the package.

0 helpers      files, overrides, prng, validation, errors
1 core         core/: the paper's pure functions (model, vectors)
2 data         data/, visual/: corpora, vocabulary, token cache, embedding files, images and WordNet
3 training     training/: the Trainable protocol, row tables, the skip-gram sampler, optimizers, the step,
               the loop, checkpoints, run records (trains the Trainable it is handed; knows no model)
4 models       models/: the model description, the registry, PIXIE and the baselines;
               configs/* (the shipped config files: run by path, a baseline's section taken from its module)
5 evaluation   evaluate/ (reads arrays; knows no trainer and no model)
6 experiments  experiment, outputs, propagation
7 command line cli/: one module per group of commands, the processes of a run
"""

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LAYERS = {
    0: ("files", "overrides", "prng", "validation", "errors"),
    1: ("core",),
    2: ("data", "visual"),
    3: ("training",),
    4: ("models", "configs"),
    5: ("evaluate",),
    6: ("experiment", "outputs", "propagation"),
    7: ("cli",),
}
MODEL_MODULES = ("pixie_jax.models", "pixie_jax.core.model")  # a model, or PIXIE's networks
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


def folder_imports() -> dict[str, set[str]]:
    """{folder: the other folders of the package its modules import}."""
    out = {}
    for folder in (p for p in PACKAGE.iterdir() if p.is_dir() and any(p.glob("*.py"))):
        out[folder.name] = {n for path in folder.rglob("*.py") for n in imported(path)} - {folder.name}
    return out


def test_no_folder_imports_one_that_imports_it_back():
    graph = folder_imports()
    both = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and a in graph.get(b, ()))
    assert not both, both
    assert "data" in graph["visual"]  # the check reads real imports: visual reads the bundled files through data


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
        f"print(' '.join(n for n in sys.modules if n == 'flax.linen' or n.startswith({MODEL_MODULES!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


def test_the_trainer_loads_no_model_and_no_flax_linen():
    """What is loaded, not only what is written: importing the trainer (the loop, the step, the
    optimizers, the protocol) brings in no model module and not flax.linen."""
    assert (
        loaded(
            "pixie_jax.training.loop",
            "pixie_jax.training.step",
            "pixie_jax.training.optimizers",
            "pixie_jax.training.trainable",
        )
        == set()
    )


def test_similarity_and_analogies_load_no_model():
    assert loaded("pixie_jax.evaluate.similarity", "pixie_jax.evaluate.analogy") == set()


def test_the_loaded_check_sees_a_model():
    assert {"pixie_jax.core.model", "flax.linen"} <= loaded("pixie_jax.models.objective")


def test_evaluation_and_the_trainer_import_no_model():
    """Evaluation reads arrays and the trainer runs a trainable it is handed: neither imports a model
    module, the registry, or PIXIE's networks."""
    wrong = []
    for p in [*sorted((PACKAGE / "evaluate").glob("*.py")), *sorted((PACKAGE / "training").glob("*.py"))]:
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            wrong += [f"{p.relative_to(PACKAGE)} imports {n}" for n in names if n.startswith(MODEL_MODULES)]
    assert not wrong, "\n".join(wrong)
