"""The app's layering, checked: tui/model computes without Textual or Rich, screens get their
data from the App's RunStore (never a lock, a follower, a reader, or another screen), history
is read through logger.History's methods, and no import cycles join tui's modules."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUI = REPO / "tui"


def modules(folder: Path) -> list[str]:
    return sorted(".".join(p.relative_to(REPO).with_suffix("").parts) for p in folder.rglob("*.py")
                  if p.name != "__init__.py")


def test_the_model_imports_no_textual_or_rich():
    """Every tui/model module imports in a fresh interpreter without loading Textual or Rich."""
    names = modules(TUI / "model")
    code = ("import sys\n" + "".join(f"import {n}\n" for n in names) +
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "[]", f"tui/model loads {out.stdout.strip()}"


def _attributes(path: Path) -> set[str]:
    return {n.attr for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Attribute)}


@pytest.mark.parametrize("folder", ["screens", "widgets"])
def test_no_screen_or_widget_touches_the_reader(folder):
    """Locks, followers and readers belong to the RunStore alone (with_runs, ingest)."""
    for path in sorted((TUI / folder).glob("*.py")):
        touched = _attributes(path) & {"lock", "follower", "_follower", "reader", "feed"}
        assert not touched, f"{path.name} reaches {sorted(touched)}; ask the RunStore"


def test_no_screen_takes_another_screen():
    """Screens get the store (and the editor) handed in, never a screen to reach through."""
    import importlib
    import re

    from textual.screen import Screen

    screens = {}
    for name in modules(TUI / "screens"):
        module = importlib.import_module(name)
        screens.update({cls.__name__: cls for cls in vars(module).values()
                        if inspect.isclass(cls) and issubclass(cls, Screen)
                        and cls.__module__ == name})
    for cls in screens.values():
        for arg, hint in inspect.get_annotations(cls.__init__).items():
            named = set(re.findall(r"\w+", hint if isinstance(hint, str) else hint.__name__))
            assert not named & (set(screens) | {"Screen"}), \
                f"{cls.__name__}({arg}: {hint}): pass the store, not a screen"


def _history_internals(path: Path) -> set[str]:
    """`history.columns`, `run.history.times` and the like: a History's fields, read directly."""
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Attribute) and n.attr in {"columns", "_columns", "times", "steps"}:
            owner = n.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name == "history":
                out.add(n.attr)
    return out


def test_history_is_read_through_its_methods():
    """tui reads logger.History by its API (series, values_since, ...), not its columns."""
    for folder in ("model", "screens", "widgets"):
        for path in sorted((TUI / folder).glob("*.py")):
            inside = _history_internals(path)
            assert not inside, f"{path.relative_to(REPO)} reads History.{sorted(inside)}"


# -- import cycles (the logic of the project's import_cycles hook, kept here) ------------------
def import_graph(root: Path, packages: list[str]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (at module level or in a function), by AST;
    imports under `if TYPE_CHECKING:` are annotations and left out."""
    mods: dict[str, str] = {}
    for pkg in packages:
        for d, _, files in os.walk(root / pkg):
            for f in files:
                if f.endswith(".py"):
                    p = os.path.join(d, f)
                    rel = os.path.relpath(p, root)[:-3].replace(os.sep, ".")
                    mods[rel[:-9] if rel.endswith(".__init__") else rel] = p

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        is_pkg = p.endswith("__init__.py")
        base = m if is_pkg else m.rpartition(".")[0]
        tree = ast.parse(Path(p).read_text(encoding="utf-8"))
        typing_only = {id(x) for n in ast.walk(tree)
                       if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
                       for b in n.body for x in ast.walk(b)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    b = base
                    for _ in range(node.level - 1):
                        b = b.rpartition(".")[0]
                    mod = f"{b}.{node.module}" if node.module else b
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            for t in targets:
                r = resolve(t)
                # a package's __init__ re-exporting its children is not a cycle worth naming
                if r and r != m and not (mods[r].endswith("__init__.py") and m.startswith(r + ".")) \
                        and not (is_pkg and r.startswith(m + ".")):
                    graph[m].add(r)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    seen: set[str] = set()
    stack: list[str] = []

    def dfs(v: str) -> None:
        seen.add(v)
        stack.append(v)
        for w in sorted(graph[v]):
            if w in stack:
                cyc = stack[stack.index(w):] + [w]
                if frozenset(cyc) not in {frozenset(c) for c in found}:
                    found.append(cyc)
            elif w not in seen:
                dfs(w)
        stack.pop()

    for v in sorted(graph):
        if v not in seen:
            dfs(v)
    return found


def test_the_cycle_check_finds_a_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import y\n")
    assert cycles(import_graph(tmp_path, ["pkg"])) == [["pkg.a", "pkg.b", "pkg.a"]]


def test_no_import_cycles_in_tui():
    found = cycles(import_graph(REPO, ["tui"]))
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)
