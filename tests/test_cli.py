"""`runwatch ls`, `show`, `export`, `tag`, `note` and the parser, as real commands on a real root."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from logger import events as ev
from logger.reader import RootReader
from tui.cli import main, parse_since

from .test_cli_support import (
    HOSTILE,
    REPO,
    assert_no_raw_controls,
    env,
    make_sample,
    python,
    rw,
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("cli") / "runs")


@pytest.fixture
def editable(sample: Path, tmp_path: Path) -> Path:
    """A copy of the sample root that a test may change."""
    return Path(shutil.copytree(sample, tmp_path / "runs"))


def ids(root: Path) -> dict[str, str]:
    reader = RootReader(root)
    reader.scan()
    return {r.name: r.path for r in reader.runs.values()}


# -- ls -------------------------------------------------------------------------------------
def test_ls_lists_every_run_with_state_step_and_metrics(sample: Path) -> None:
    proc = rw("ls", str(sample))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:5] == ["STATE", "RUN", "ID", "STEP", "RUNTIME"]
    assert "loss" in lines[0] and "acc" in lines[0]
    brisk = next(line for line in lines if "cats/brisk-otter-7" in line)
    assert brisk.split()[0] == "finished" and " 9 " in brisk and "0.1000" in brisk
    assert next(line for line in lines if "failing-heron-2" in line).startswith("failed")
    assert len(lines) == 4
    assert_no_raw_controls(proc.stdout)
    assert "evil\\x1b[31m" in proc.stdout


def test_ls_json_and_filters(sample: Path) -> None:
    proc = rw("ls", str(sample), "--json", "-f", "state:failed")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["name"] for r in records] == ["failing-heron-2"]
    assert records[0]["config"] == {"lr": 0.1} and records[0]["state"] == "failed"
    assert records[0]["summary"]["loss"] == 4.0 and records[0]["step"] == 2
    both = rw("ls", str(sample), "--json", "-f", "lr<=0.01")
    assert sorted(json.loads(x)["config"]["lr"] for x in both.stdout.splitlines()) == [0.001, 0.01]
    dogs = rw("ls", str(sample), "--json", "-p", "dogs")
    (hostile,) = [json.loads(x) for x in dogs.stdout.splitlines()]
    assert hostile["name"] == HOSTILE and hostile["summary"]["loss"] == "NaN"
    assert "\\u001b" in dogs.stdout and "\\u009b" in dogs.stdout
    assert_no_raw_controls(dogs.stdout)


def test_ls_errors_and_empty_roots(sample: Path, tmp_path: Path) -> None:
    bad = rw("ls", str(sample), "-f", "lr<")
    assert bad.returncode == 2 and "--filter" in bad.stderr and "lr<" in bad.stderr
    missing = rw("ls", str(tmp_path / "nowhere"))
    assert missing.returncode == 0 and missing.stdout == ""
    assert "does not exist yet" in missing.stderr and "logger.init" in missing.stderr
    (tmp_path / "file").write_text("x")
    as_file = rw("ls", str(tmp_path / "file"))
    assert as_file.returncode == 2 and "is a file" in as_file.stderr and "file" in as_file.stderr
    none = rw("ls", str(sample), "-f", "state:running")
    assert none.returncode == 0 and none.stdout == "" and "match" in none.stderr


def test_root_comes_from_the_environment_then_runs(sample: Path, tmp_path: Path) -> None:
    assert "brisk-otter-7" in rw("ls", RUNWATCH_DIR=str(sample)).stdout
    (tmp_path / "runs").symlink_to(sample)
    assert "brisk-otter-7" in rw("ls", cwd=tmp_path).stdout


# -- show -----------------------------------------------------------------------------------
def test_show_prints_metadata_config_summary_tags_notes(sample: Path) -> None:
    proc = rw("show", "brisk-otter-7", "--root", str(sample))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for text in ("state           finished", "optimizer.name  adam", "batch_size", "baseline",
                 "first try", "\nsummary\n", "val.loss", "\nartifacts\n", "\nfiles\n", "python"):
        assert text in out
    failed = rw("show", "failing-heron-2", "--root", str(sample)).stdout
    assert "\nerror\n" in failed and "ValueError: loss is nan" in failed


def test_show_finds_a_run_by_id_path_and_directory(sample: Path) -> None:
    path = ids(sample)["brisk-otter-7"]
    run_id = path.split("/")[1]
    for ref in (path, run_id, run_id[:5], "cats/brisk-otter-7", str(sample / path)):
        root = [] if ref.startswith("/") else ["--root", str(sample)]
        proc = rw("show", ref, *root, "--json")
        assert proc.returncode == 0, (ref, proc.stderr)
        record = json.loads(proc.stdout)
        assert record["run"] == path and record["tags"] == ["baseline"]


def test_show_errors_name_the_run_and_close_matches(sample: Path) -> None:
    proc = rw("show", "brisk-otter", "--root", str(sample))
    assert proc.returncode == 2
    assert "no run 'brisk-otter'" in proc.stderr and "brisk-otter-7" in proc.stderr
    assert rw("show", "zzzzzz", "--root", str(sample)).stderr.count("runwatch ls") == 1


def test_ambiguous_run_names_are_an_error_listing_each(editable: Path) -> None:
    code = f"""
        import logger
        r = logger.init(project="birds", name="brisk-otter-7", dir={str(editable)!r})
        r.finish()
    """
    python(code)
    proc = rw("show", "brisk-otter-7", "--root", str(editable))
    assert proc.returncode == 2 and "ambiguous" in proc.stderr
    assert "cats/" in proc.stderr and "birds/" in proc.stderr
    assert rw("show", "birds/brisk-otter-7", "--root", str(editable)).returncode == 0


def test_show_escapes_hostile_text(sample: Path) -> None:
    path = ids(sample)[HOSTILE]
    proc = rw("show", path, "--root", str(sample))
    assert proc.returncode == 0, proc.stderr
    assert_no_raw_controls(proc.stdout)
    assert "[bold red]x[/]" in proc.stdout and "evil\\x1b[31m" in proc.stdout


# -- export ---------------------------------------------------------------------------------
def test_export_csv_of_a_run(sample: Path) -> None:
    proc = rw("export", "brisk-otter-7", "--root", str(sample))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["_step", "_timestamp", "_runtime", "loss", "acc", "val.loss"]
    assert len(rows) == 11 and rows[1][0] == "0" and float(rows[10][3]) == pytest.approx(0.1)


def test_export_project_jsonl_to_a_file(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "cats.jsonl"
    proc = rw("export", "cats", "--root", str(sample), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "13 rows" in proc.stderr and str(out) in proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["name"] for r in rows} == {"brisk-otter-7", "failing-heron-2"}
    assert all(r["run"].startswith("cats/") for r in rows)
    assert [r["_step"] for r in rows if r["name"] == "failing-heron-2"] == [0, 1, 2]


def test_export_project_csv_has_run_columns_and_selected_keys(sample: Path) -> None:
    proc = rw("export", "cats", "--root", str(sample), "--format", "csv", "-m", "acc")
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["run", "name", "_step", "_timestamp", "_runtime", "acc"]
    assert len(rows) == 11  # the failing run never logged acc


def test_export_hostile_values_and_nan(sample: Path) -> None:
    path = ids(sample)[HOSTILE]
    proc = rw("export", path, "--root", str(sample), "-f", "jsonl")
    (row,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert row["loss"] == "NaN" and row["acc"] == "Infinity" and row[HOSTILE] == HOSTILE
    assert_no_raw_controls(proc.stdout)


def test_export_parquet_without_pyarrow_names_the_extra(sample: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    code = main(["export", "brisk-otter-7", "--root", str(sample), "-o", str(tmp_path / "x.parquet")])
    assert code == 2
    assert "runwatch[parquet]" in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()


def test_export_parquet(sample: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "cats.parquet"
    assert rw("export", "cats", "--root", str(sample), "-o", str(out)).returncode == 0
    table = pq.read_table(out)
    assert table.num_rows == 13 and table.column_names[:3] == ["run", "name", "_step"]


def test_export_errors(sample: Path, tmp_path: Path) -> None:
    proc = rw("export", "nope", "--root", str(sample))
    assert proc.returncode == 2 and "no run 'nope'" in proc.stderr
    proc = rw("export", "brisk-otter-7", "--root", str(sample), "-o", str(tmp_path / "no" / "x.csv"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "x.csv" in proc.stderr
    proc = rw("export", "brisk-otter-7", "--root", str(sample), "-f", "xml")
    assert proc.returncode == 2 and "--format" in proc.stderr


# -- tag and note ---------------------------------------------------------------------------
def segment_sizes(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in root.rglob("*.rws")}


def test_tag_adds_and_removes_in_a_new_editor_segment(editable: Path) -> None:
    before = segment_sizes(editable)
    proc = rw("tag", "brisk-otter-7", "+best", "-baseline", "lr-sweep", "--root", str(editable))
    assert proc.returncode == 0, proc.stderr
    assert "tags best, lr-sweep" in proc.stdout
    after = segment_sizes(editable)
    assert {p: after[p] for p in before} == before  # nothing written into existing files
    (new,) = set(after) - set(before)
    assert new.parent.name == ids(editable)["brisk-otter-7"].split("/")[1]
    reader = RootReader(editable)
    reader.scan()
    assert reader.get("brisk-otter-7").tags == ("best", "lr-sweep")
    shown = rw("tag", "brisk-otter-7", "--root", str(editable))
    assert shown.stdout.endswith("tags best, lr-sweep\n") and len(segment_sizes(editable)) == len(after)


def test_tag_errors(editable: Path) -> None:
    proc = rw("tag", "brisk-otter-7", "+", "--root", str(editable))
    assert proc.returncode == 2 and "'+'" in proc.stderr
    proc = rw("tag", "nope", "+x", "--root", str(editable))
    assert proc.returncode == 2 and "no run 'nope'" in proc.stderr


def test_note_sets_appends_and_reads_stdin(editable: Path) -> None:
    root = ["--root", str(editable)]
    assert rw("note", "brisk-otter-7", "-", "lr", "too", "high", *root).returncode == 0
    assert rw("note", "brisk-otter-7", "--append", "rerun", *root).returncode == 0
    reader = RootReader(editable)
    reader.scan()
    assert reader.get("brisk-otter-7").notes == "- lr too high\nrerun"
    proc = rw("note", "failing-heron-2", "-", *root, input="from\nstdin\n")
    assert proc.returncode == 0 and "notes saved" in proc.stdout
    reader.scan()
    assert reader.get("failing-heron-2").notes == "from\nstdin\n"


def test_tag_on_a_read_only_run_says_nothing_changed(editable: Path) -> None:
    run_dir = editable / ids(editable)["brisk-otter-7"]
    run_dir.chmod(0o555)
    try:
        proc = rw("tag", "brisk-otter-7", "+x", "--root", str(editable))
    finally:
        run_dir.chmod(0o755)
    if proc.returncode == 0:
        pytest.skip("running as root: permissions are not enforced")
    assert proc.returncode == 2 and "not writable" in proc.stderr


# -- the parser, help, and what is imported ------------------------------------------------
@pytest.mark.parametrize("command", ["", "tail", "ls", "show", "export", "tag", "note", "demo"])
def test_help_has_examples_and_exit_codes(command: str) -> None:
    proc = rw(*([command] if command else []), "--help")
    assert proc.returncode == 0, proc.stderr
    assert "examples:" in proc.stdout and "exit codes:" in proc.stdout
    assert proc.stdout.startswith(f"usage: runwatch {command}".rstrip())


def test_headless_commands_never_import_textual(sample: Path) -> None:
    code = f"""
import sys
from tui.cli import main
root = {str(sample)!r}
for argv in (["tail", root, "--no-follow"], ["tail", root, "--no-follow", "--json"], ["ls", root],
             ["show", "brisk-otter-7", "--root", root], ["export", "cats", "--root", root],
             ["--help"], ["tail", "--help"]):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 0, (argv, code)
    loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith(("textual.", "rich")))
    assert not loaded, (argv, loaded)
print("OK", file=sys.stderr)
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env(), cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr.endswith("OK\n"), proc.stderr


def test_unknown_options_are_usage_errors() -> None:
    proc = rw("ls", "--bogus")
    assert proc.returncode == 2 and "--bogus" in proc.stderr
    proc = rw("tail", "--every", "0")
    assert proc.returncode == 2 and "--every" in proc.stderr
    proc = rw("tail", "--since", "yesterday-ish")
    assert proc.returncode == 2 and "--since" in proc.stderr


def test_parse_since() -> None:
    now = 1_800_000_000.0
    assert parse_since("90", now) == now - 90
    assert parse_since("10m", now) == now - 600
    assert parse_since("1h30m", now) == now - 5400
    assert parse_since("2d", now) == now - 172800
    assert parse_since("2026-11-27T12:00:00+00:00", now) == 1795780800.0
    at = parse_since("00:00", now)
    assert now - 86400 < at <= now


def test_a_torn_last_frame_is_read_up_to_the_tear(editable: Path) -> None:
    """A writer killed mid-write leaves half a frame: every command reads what is whole."""
    run_dir = editable / ids(editable)["failing-heron-2"]
    (seg,) = run_dir.glob("*.rws")
    frame = ev.encode(ev.Log(step=3, time=0.0, values={"loss": 9.0}))
    with open(seg, "ab") as f:
        f.write(frame[: len(frame) // 2])
    proc = rw("show", "failing-heron-2", "--root", str(editable), "--json", timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["step"] == 2
    proc = rw("export", "failing-heron-2", "--root", str(editable), timeout=20)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 4


def test_main_returns_exit_codes_instead_of_raising(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", "--help"]) == 0
    assert "examples:" in capsys.readouterr().out
    assert main(["show"]) == 2
    assert "RUN" in capsys.readouterr().err


def test_a_mistyped_command_is_not_taken_for_a_root(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tui", "lss"], cwd=tmp_path, env=env(),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "did you mean 'ls'?" in proc.stderr


def test_export_refuses_a_file_name_whose_format_it_cannot_tell(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tui", "export", "x", "-o", "out.xml"],
                          cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "cannot tell the format from 'out.xml'" in proc.stderr
    assert not (tmp_path / "out.xml").exists()


def test_every_help_fits_80_columns_without_cutting_a_word() -> None:
    # Descriptions and examples were printed as written, up to 99 columns: an 80-column
    # terminal cut "full-screen" as "full" / "-screen", and argparse broke "read-" / "only".
    from tui.cli.commands import names

    for command in ["", *names()]:
        proc = rw(*([command] if command else []), "--help", COLUMNS="80")
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        wide = [line for line in lines if len(line) > 78]  # argparse's width: COLUMNS - 2
        assert not wide, (command, wide)
        assert not [line for line in lines if re.search(r"\w-$", line.rstrip())], command  # "read-"
        assert rw(*([command] if command else []), "--help", COLUMNS="200").stdout.count("\n") < len(lines)
