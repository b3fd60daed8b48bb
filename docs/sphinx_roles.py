"""A griffe extension for the API reference: the docstrings' Sphinx roles (:func:`name`, :class:`~a.b.C`,
:mod:`pixie_jax.x`, :meth:, :attr:, :data:) become mkdocstrings cross-references ([`name`][a.b.name]),
each name resolved from the object's module: a full path, a path relative to the module (.name), or a
name of the class, of the module (an import followed to what it names), of a sibling module or of the
package. A name that resolves to nothing is
left as code and listed in UNRESOLVED; the build fails on it (mkdocs.yml sets strict mode, and
:func:`check` raises)."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):`(~?)([\w.]+?)(?:\(\))?`")
UNRESOLVED: list[str] = []


def _find(root, path: str):
    """The object at dotted ``path`` under the package ``root`` (aliases followed), or None."""
    parts = path.split(".")
    if parts[0] != root.name:
        return None
    obj = root
    for part in parts[1:]:
        try:
            obj = obj.members[part]
            if obj.is_alias:
                obj = obj.final_target
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
    return obj


def _resolve(root, obj, name: str) -> str | None:
    """The full path ``name`` means in ``obj``'s docstring, or None."""
    module = obj if obj.is_module else obj.module
    if name.startswith("."):  # relative to the module (a package's own modules)
        return _path(_find(root, module.path + name))
    scopes = [name]
    if obj.is_class or (obj.parent is not None and obj.parent.is_class):
        cls = obj if obj.is_class else obj.parent
        scopes.append(f"{cls.path}.{name}")
    scopes.append(f"{module.path}.{name}")
    if module.parent is not None:  # a sibling module's name
        scopes.append(f"{module.parent.path}.{name}")
    scopes.append(f"{root.name}.{name}")
    for candidate in scopes:
        found = _find(root, candidate)
        if found is not None:
            return found.path
    return None


def _path(found) -> str | None:
    return None if found is None else found.path


def _rewrite(root, obj) -> None:
    if obj.docstring is None:
        return

    def link(match) -> str:
        short, name = match.group(1), match.group(2)
        text = name.rsplit(".", 1)[-1] if short else name
        target = _resolve(root, obj, name)
        if target is None:
            UNRESOLVED.append(f"{obj.path}: {match.group(0)}")
            return f"`{text}`"
        return f"[`{text}`][{target}]"

    obj.docstring.value = ROLE.sub(link, obj.docstring.value)


def _walk(obj, seen):
    if obj.path in seen or obj.is_alias:
        return
    seen.add(obj.path)
    yield obj
    for member in obj.members.values():
        yield from _walk(member, seen)


class SphinxRoles(griffe.Extension):
    def on_package(self, *, pkg, **kwargs) -> None:
        for obj in _walk(pkg, set()):
            _rewrite(pkg, obj)
        check()


def check() -> None:
    if UNRESOLVED:
        raise ValueError("unresolved cross-references in docstrings:\n  " + "\n  ".join(UNRESOLVED))
