"""What log() and save() take: keys, nested keys, undecodable text, huge values, globs and
symlinks. Each case is read back through the reader, which must see every value kept."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import logger
from logger import Api, RunwatchWarning

from .conftest import script_env


def _history(root: Path, run: logger.Run) -> list[dict]:
    return [{k: v for k, v in r.items() if not k.startswith("_")}
            for r in Api(root).run(run.path).scan_history()]


def test_a_top_level_key_that_is_not_a_str_raises_naming_it_and_loses_nothing_else(root):
    run = logger.init(project="p")
    run.log({"a": 1})
    for bad in ({1: 0.5, "b": 2}, {"b": 2, (1, 2): 3}, {None: 1}):
        with pytest.raises(TypeError, match=r"log\(\) keys must be strings.*got"):
            run.log(bad)
    with pytest.raises(TypeError, match="got 1 "):
        logger.log({1: 0.5}, step=4)
    run.log({"a": 2})
    assert run.step == 2
    run.finish()
    assert _history(root, run) == [{"a": 1}, {"a": 2}]


def test_nested_keys_that_are_not_str_are_stored_as_str(root):
    run = logger.init(project="p")
    run.log({"acc": {0: 0.9, 1: {2: 0.8}}, "b": 1})
    run.log({"acc": {0: 0.7}}, commit=False)
    run.log({"c": 3})
    run.finish()
    api_run = Api(root).run(run.path)
    assert _history(root, run) == [{"acc.0": 0.9, "acc.1.2": 0.8, "b": 1}, {"acc.0": 0.7, "c": 3}]
    assert api_run.summary["acc"] == {"0": 0.7, "1": {"2": 0.8}}


def test_surrogate_escaped_keys_and_values_never_raise_and_are_kept_escaped(root):
    name = os.fsdecode(b"img-\xff.png")
    run = logger.init(project="p")
    run.log({name: 1, "file": name, "lone": "\ud800"})
    run.log({"nested": {name: name}}, step=5)
    run.summary[name] = 2
    run.config.update({"path": name})
    run.finish()
    api_run = Api(root).run(run.path)
    assert _history(root, run)[0] == {"img-\\xff.png": 1, "file": "img-\\xff.png", "lone": "\\ud800"}
    assert api_run.config["path"] == "img-\\xff.png"
    assert api_run.summary["img-\\xff.png"] == 2


def test_undecodable_argv_and_cwd_keep_the_runs_start(tmp_path):
    work = tmp_path / os.fsdecode(b"dir-\xfe")
    work.mkdir()
    script = work / "train.py"
    script.write_text(textwrap.dedent("""
        import logger
        run = logger.init(project="p", name="named", tags=["t"], notes="n", config={"lr": 0.1})
        run.log({"a": 1})
    """))
    proc = subprocess.run([sys.executable, str(script), os.fsdecode(b"--out=\xff")], cwd=work,
                          env=script_env(RUNWATCH_DIR=str(tmp_path / "runs")), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "could not record" not in proc.stderr, proc.stderr
    (run,) = Api(tmp_path / "runs").runs("p")
    assert (run.name, run.tags, run.notes, run.config["lr"]) == ("named", ["t"], "n", 0.1)
    assert run.metadata["args"] == ["--out=\\xff"]
    assert run.state == "finished"


def test_one_value_too_large_is_refused_with_one_warning_and_the_step_kept(root):
    from logger.values import MAX_VALUE_BYTES

    run = logger.init(project="p")
    huge = "x" * (MAX_VALUE_BYTES + 1)
    with pytest.warns(RunwatchWarning, match=r"'blob' is 16\.0 MiB.*at most 16 MiB") as caught:
        run.log({"blob": huge, "loss": 0.5})
        run.log({"blob": huge, "loss": 0.4})
    assert len(caught) == 1
    with pytest.warns(RunwatchWarning, match=r"'nested' is 16\.0 MiB"):
        run.log({"nested": {"big": ["y" * 1024] * (MAX_VALUE_BYTES // 1024 + 1)}, "ok": 1},
                step=9, commit=True)
    assert "blob" not in run.summary and run.summary["loss"] == 0.4
    run.finish()
    assert _history(root, run) == [{"loss": 0.5}, {"loss": 0.4}, {"ok": 1}]


def test_save_takes_a_wildcard_in_a_directory_part(root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for sub in ("a", "b"):
        (tmp_path / "out" / sub).mkdir(parents=True)
        (tmp_path / "out" / sub / "model.pt").write_text(sub)
    run = logger.init(project="p")
    assert run.save("out/*/model.pt", policy="now") == ["a/model.pt", "b/model.pt"]
    assert run.save("out/*/model.pt", base_path=".", policy="now") == ["out/a/model.pt", "out/b/model.pt"]
    run.finish()
    assert (run.run_dir / "files" / "b" / "model.pt").read_text() == "b"


def test_save_never_writes_through_a_symlink_leading_outside_the_run(root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "model.pt").write_text("weights")
    (tmp_path / "top.txt").write_text("new")
    victim = outside / "victim.txt"
    victim.write_text("precious")
    run = logger.init(project="p")
    files = run.run_dir / "files"
    files.mkdir(parents=True)
    (files / "sub").symlink_to(outside)        # a directory link out of the run
    (files / "top.txt").symlink_to(victim)     # a file link out of the run
    (tmp_path / "sub" / "deep").mkdir()
    (tmp_path / "sub" / "deep" / "w.pt").write_text("w")
    with pytest.warns(RunwatchWarning, match="leads outside the run directory"):
        assert run.save("sub/model.pt", base_path=".", policy="now") == []
    with pytest.warns(RunwatchWarning, match="leads outside the run directory"):
        assert run.save("sub/deep/w.pt", base_path=".", policy="now") == []
    assert not (outside / "deep").exists()  # not even a directory is made through the link
    assert run.save("top.txt", policy="now") == ["top.txt"]
    run.finish()
    assert not (outside / "model.pt").exists() and victim.read_text() == "precious"
    assert not (files / "top.txt").is_symlink() and (files / "top.txt").read_text() == "new"
