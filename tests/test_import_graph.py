"""No import cycles among logger's and tui's modules (function-level imports count too).

The graph is built from the AST, as /work/shared/hooks/import_cycles.py builds it: an import
under `if TYPE_CHECKING:` is an annotation, not a dependency, and a submodule naming its own
package (`import logger` for `logger.run`) is the package's public surface, not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("logger", "tui")



def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = path
    return mods


def _resolve(mods: dict[str, Path], name: str) -> str | None:
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.AST, base: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    mod = node.module or ""
    if node.level:
        b = base
        for _ in range(node.level - 1):
            b = b.rpartition(".")[0]
        mod = f"{b}.{node.module}" if node.module else b
    return [mod] + [f"{mod}.{a.name}" for a in node.names]


def _edges(mods: dict[str, Path], m: str) -> set[str]:
    path = mods[m]
    is_pkg = path.name == "__init__.py"
    base = m if is_pkg else m.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(x) for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
                   for b in n.body for x in ast.walk(b)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        for t in _targets(node, base):
            r = _resolve(mods, t)
            if r and r != m and not (mods[r].name == "__init__.py" and m.startswith(r + ".")) \
                    and not (is_pkg and r.startswith(m + ".")):
                out.add(r)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _edges(mods, m) for m in mods}


def cyclic_groups(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = set()
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    group.add(x)
                    if x == v:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def test_the_checker_sees_a_function_level_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cyclic_groups(graph) == [{"a", "b", "c"}]
    assert cyclic_groups({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_function_level_imports_and_skips_type_checking():
    graph = import_graph()
    assert "logger.artifact_store" in graph["logger.artifacts"]  # module level
    assert "logger.media.readback" in graph["logger.artifacts"]  # inside Artifact.get
    assert "logger.artifacts" not in graph["logger.artifact_store"]  # under TYPE_CHECKING only


def test_no_import_cycle_between_any_modules():
    bad = [sorted(g) for g in cyclic_groups(import_graph())]
    assert bad == [], f"import cycles among: {bad}"


def test_the_artifact_layers_import_only_downwards():
    graph = import_graph()
    layers = ["logger.artifact_store", "logger.references", "logger.artifacts", "logger.artifact_use"]
    for i, low in enumerate(layers):
        assert not graph[low] & set(layers[i + 1:]), f"{low} imports a layer above it"
    for mod in ("logger.compat", "logger.artifacts", "logger.artifact_store", "logger.artifact_use",
                "logger.references", "logger.toplevel"):
        assert not graph[mod] & {"logger.sdk", "logger.run", "logger.api"}, f"{mod} reaches up into sdk/run/api"
