"""The documentation tells the truth: every Python snippet of README.md and docs/ runs (or says why
not), and the config reference lists every key of the shipped configs with its default."""

import ast
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, xla_flags

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\s*$")


def snippets():
    """(page, line, code) of every ```python block; a block right after '<!-- not run: REASON -->' is left out."""
    out = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "```python":
                end = lines.index("```", i + 1)
                marked = i > 0 and NOT_RUN.search(lines[i - 1])
                if not marked:
                    out.append(
                        pytest.param(page, i + 1, "\n".join(lines[i + 1 : end]), id=f"{page.relative_to(ROOT)}:{i + 1}")
                    )
                i = end
            i += 1
    return out


def test_every_page_has_its_snippets_found():
    assert len(snippets()) >= 4  # README's model, training from Python, adding a model (two)


@pytest.mark.parametrize("page, line, code", snippets())
def test_snippet_runs(page, line, code, tmp_path):
    """Each snippet in a fresh process, in a folder of its own that sees the checkout's examples/ and
    configs/ (the paths the docs use)."""
    for name in ("examples", "configs"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = dict(os.environ, XLA_FLAGS=xla_flags(1), PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, f"{page.name}:{line}\n{out.stderr[-3000:]}"


def reference_rows(retrieval: bool) -> dict[str, str]:
    """{key: default as written} of docs/config.md's tables: the retrieval section's, or all others'."""
    rows, in_retrieval = {}, False
    for line in (ROOT / "docs" / "config.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            in_retrieval = line.startswith("## Retrieval")
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if in_retrieval == retrieval and len(cells) >= 3 and cells[0].startswith("`") and cells[1].startswith("`"):
            rows[cells[0].strip("`")] = cells[1].strip("`")
    return rows


@pytest.mark.parametrize("config", ["pixie", "vsgns", "vae", "ivsgns", "retrieval"])
def test_the_config_reference_lists_every_key_with_its_default(config):
    from pixie_jax.overrides import flat_keys, get_value, load_config

    rows = reference_rows(config == "retrieval")
    c = load_config(config)
    own = [k for k in flat_keys(c) if config in ("pixie", "retrieval") or k.startswith(f"{config}.")]
    for key in own:
        assert key in rows, f"docs/config.md lacks {key} of configs/{config}.py"
        assert ast.literal_eval(rows[key]) == get_value(c, key), (key, rows[key], get_value(c, key))


def test_every_shipped_config_is_short_and_says_what_it_is():
    for path in sorted((ROOT / "pixie_jax" / "configs").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 70, f"{path.name}: {len(text.splitlines())} lines"
        assert ast.get_docstring(ast.parse(text)), f"{path.name} has no docstring"


def test_docstring_roles_become_links_and_an_unresolved_one_fails_the_build(tmp_path):
    import importlib.util

    griffe = pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location("sphinx_roles", ROOT / "docs" / "sphinx_roles.py")
    roles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(roles)
    package = tmp_path / "demo"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""See :func:`f`, :mod:`.sub` and :class:`~demo.sub.Thing`."""\n\ndef f():\n    pass\n'
    )
    (package / "sub.py").write_text('"""A module."""\n\nclass Thing:\n    """Uses :func:`nowhere`."""\n')
    roles.UNRESOLVED.clear()
    with pytest.raises(ValueError, match=r"demo.sub.Thing: :func:`nowhere`"):
        griffe.load("demo", search_paths=[tmp_path], extensions=griffe.load_extensions(roles.SphinxRoles()))
    loaded = griffe.load("demo", search_paths=[tmp_path], extensions=griffe.load_extensions())
    roles.UNRESOLVED.clear()
    roles._rewrite(loaded, loaded)
    assert loaded.docstring.value == "See [`f`][demo.f], [`.sub`][demo.sub] and [`Thing`][demo.sub.Thing]."
