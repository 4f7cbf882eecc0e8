"""deepfit's import graph, read from the source with ``ast`` (every import statement, also
inside functions and ``TYPE_CHECKING`` blocks), and the rules it must keep:

- ``models``, ``hardware`` and the engine registry (``engines/spec.py``, ``registry.py``)
  import nothing of deepfit's above them (an engine folder's exporter hook may);
- the core (everything but ``cli``, ``web``, ``measure``, ``api`` and the package's own
  ``__init__``/``__main__``) never imports ``cli``, ``web`` or ``measure``;
- no module imports itself through a chain of other modules (no circles).

An edge ``a -> b`` means module ``a`` names module ``b`` in an import; ``from p import x``
points at ``p.x`` when that is a module, else at ``p``. Importing a submodule also runs its
package's ``__init__``, but that implicit step is not an edge (re-exports would make every
package a circle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = "deepfit"
#: deepfit modules the bottom layers may use besides their own package.
BASE = {"deepfit.errors", "deepfit.units", "deepfit._cache", "deepfit._bisect", "deepfit._data"}
BOTTOM = ("deepfit.models", "deepfit.hardware", "deepfit.engines.spec", "deepfit.engines.registry")
ADAPTERS = ("deepfit.cli", "deepfit.web", "deepfit.measure")
NOT_CORE = (*ADAPTERS, "deepfit.api", "deepfit.__init__", "deepfit.__main__")

Graph = dict[str, set[str]]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(root: Path, module: str) -> bool:
    return (root.parent / module.replace(".", "/") / "__init__.py").is_file()


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The deepfit modules ``source`` (the text of ``module``) imports anywhere in it;
    ``known`` is every module name (to tell ``from p import submodule`` from a name)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    out.discard(module)
    return out


def import_graph(root: Path, extra: Mapping[str, str] | None = None) -> Graph:
    """Module -> the deepfit modules it imports, for every ``.py`` under ``root`` (the
    ``deepfit`` package folder); ``extra`` adds synthetic modules (name -> source)."""
    sources = {
        module_name(root, path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted(root.rglob("*.py"))
    }
    for name, text in (extra or {}).items():
        sources[name] = (text, _is_package(root, name))
    known = set(sources)
    return {
        name: imports_of(text, name, is_package, known)
        for name, (text, is_package) in sources.items()
    }


def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_violations(graph: Graph) -> list[str]:
    """Every import that breaks the first two rules, as ``a -> b (rule)``."""
    bad = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            for bottom in BOTTOM:
                own = "deepfit.engines" if bottom.startswith("deepfit.engines.") else bottom
                if _under(module, [bottom]) and not _under(target, [own, *BASE]):
                    bad.append(f"{module} -> {target} ({bottom} imports nothing above it)")
            if not _under(module, NOT_CORE) and _under(target, ADAPTERS):
                bad.append(f"{module} -> {target} (the core imports no cli, web or measure)")
    return bad


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found
