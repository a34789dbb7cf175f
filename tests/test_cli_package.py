"""The shape of the headless side: no module of it loads Textual, every registered command has
help with examples, a new command is one module plus one line, and no module imports form a
cycle."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path
from typing import TextIO

import pytest

import tui.cli
from tui.cli import Command, commands, main

from .test_cli_support import REPO, env, make_sample

HEADLESS = ("tui.cli", "tui.tail", "tui.tail_lines", "tui.fmt", "tui.demo", "logger.textsafe")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("package") / "runs")


def test_no_headless_module_or_command_loads_textual(sample: Path) -> None:
    """Every module under tui/cli/ (found, not listed: a new one is covered), then every
    registered command's --help and a real run of each headless one."""
    code = f"""
import importlib, pkgutil, sys
import tui.cli
from tui.cli import COMMANDS, main
names = {list(HEADLESS)!r} + [m.name for m in pkgutil.walk_packages(tui.cli.__path__, "tui.cli.")]
for name in names:
    importlib.import_module(name)
root = {str(sample)!r}
runs = [["tail", root, "--no-follow"], ["tail", root, "--no-follow", "--json"], ["ls", root],
        ["ls", root, "--json"], ["show", "brisk-otter-7", "--root", root],
        ["export", "cats", "--root", root], ["tag", "brisk-otter-7", "--root", root, "+x"],
        ["note", "brisk-otter-7", "--root", root, "a note"], ["--help"]]
for argv in [[c.name, "--help"] for c in COMMANDS] + runs:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 0, (argv, code)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
    assert not loaded, (argv, loaded)
print("OK", len(names), file=sys.stderr)
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env(), cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "OK" in proc.stderr, proc.stderr
    assert int(proc.stderr.split()[-1]) >= len(HEADLESS) + 8  # the package's modules were walked


@pytest.mark.parametrize("command", [c.name for c in commands.COMMANDS])
def test_every_registered_command_has_help_with_examples(command: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: runwatch {command}") and "examples:" in out and "exit codes:" in out
    assert command in main_help(capsys)


def main_help(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--help"]) == 0
    return capsys.readouterr().out


def test_a_new_command_is_one_module_and_one_line(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """What `runwatch exec` or `runwatch logs` will do: declare a Command, add it to COMMANDS."""

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("--root")
        p.add_argument("words", nargs="*")

    def run(args: argparse.Namespace, out: TextIO) -> int:
        out.write(f"hello {' '.join(args.words)} from {args.root}\x1b]52;c;aGk=\x07\n")
        return 3

    hello = Command("hello", "say hello", "  runwatch hello -x", configure, run, words=True,
                    valued=("--root",))
    monkeypatch.setattr(commands, "COMMANDS", (*commands.COMMANDS, hello))
    assert main(["hello", "--root", "r", "-x", "+y"]) == 3
    out = capsys.readouterr().out
    assert out == "hello -x +y from r\\x1b]52;c;aGk=\\x07\n"  # words kept, output guarded
    assert "say hello" in main_help(capsys)
    assert tui.cli.main is main


def _module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of logger/ and tui/ it imports at import time (top level)."""
    mods = {_module_name(p.relative_to(REPO)): p for pkg in ("logger", "tui")
            for p in (REPO / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                subs = {f"{base}.{a.name}" for a in node.names} & set(mods)
                deps |= subs if len(subs) == len(node.names) else subs | {base}
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep, path)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert "tui.cli.main" in graph and graph["tui.cli.main"], "the graph is empty: the test is broken"
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
