"""Several processes writing one run: DDP ranks sharing a run id, a resumed run tagged by an
editor while it logs, and two editors tagging and noting the same run at once."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import relkit

from logger.api import Api
from logger.reader import RootReader

RANK = r"""
import sys, time
import logger
root, run_id, rank, steps, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
time.sleep(delay)  # ranks come up at different moments, as they do
logger.init(project="ddp", id=run_id, dir=root, resume="allow", group="ddp", config={"world": 4})
for step in range(steps):
    logger.log({f"rank{rank}/loss": rank + 1.0 / (step + 1), "lr": 0.1}, step=step, commit=True)
    if step % 100 == 0:
        time.sleep(0.002)
logger.finish()
"""


def test_ddp_ranks_sharing_a_run_id_merge_without_losing_a_step(tmp_path: Path) -> None:
    world, steps = 4, relkit.scale(400, 5000)
    root = tmp_path / "runs"
    script = relkit.write_script(tmp_path, "rank.py", RANK)
    rng = random.Random()
    ranks = [relkit.Child(script, root, "shared", r, steps, rng.uniform(0, 0.05)) for r in range(world)]
    try:
        results = [child.finish() for child in ranks]
    finally:
        for child in ranks:
            child.close()
    for rc, _out, err in results:
        assert rc == 0 and "Traceback" not in err, err
    reader = relkit.read_root(root)
    assert list(reader.runs) == ["ddp/shared"]
    run = reader.runs["ddp/shared"]
    assert run.state == "finished" and run.skipped_frames == 0
    assert len([s for s in run.segments.values() if s.role == "script"]) == world
    counts = Counter(run.history.steps)
    assert set(counts) == set(range(steps)) and set(counts.values()) == {world}, "lost or doubled rows"
    rows = list(run.history.rows())
    assert [row["_step"] for row in rows] == list(range(steps))
    for row in rows:
        for r in range(world):
            assert row[f"rank{r}/loss"] == r + 1.0 / (row["_step"] + 1)
    assert run.config == {"world": 4} and run.group == "ddp"


BORN = r"""
import sys
from pathlib import Path
import logger
from logger.segfile import segment_name
run_dir = Path(sys.argv[1]) / "ddp" / "shared"
run_dir.mkdir(parents=True)
# A sibling rank's segment at the instant after it is created, before its header is written.
(run_dir / segment_name("script")).touch()
logger.init(project="ddp", id="shared", dir=sys.argv[1], resume="allow", group="ddp")
for step in range(5):
    logger.log({"loss": 1.0 / (step + 1)}, step=step)
logger.finish()
"""


def test_a_rank_meeting_a_sibling_segment_being_created_starts_the_run(tmp_path: Path) -> None:
    # The DDP test's ranks met this under load: resume="allow" refused as "already exists".
    root = tmp_path / "runs"
    proc = relkit.run_script(relkit.write_script(tmp_path, "born.py", BORN), root)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    run = relkit.read_root(root).runs["ddp/shared"]  # (it reads running: the sibling never wrote)
    assert run.group == "ddp" and run.skipped_frames == 0
    assert list(run.history.steps) == list(range(5))


RESUMER = r"""
import sys, time
import logger
root, steps = sys.argv[1], int(sys.argv[2])
run = logger.init(project="p", id="res", dir=root, resume="allow")
first = run.step
print("RESUMED", first, flush=True)
for i in range(first, first + steps):
    logger.log({"loss": 1.0 / (i + 1)})
    if i % 10 == 0:
        time.sleep(0.01)  # ~1 s of logging for 1000 steps: the editor works meanwhile
logger.finish()
"""

EDITOR = r"""
import sys, time
from pathlib import Path
from logger.edit import edit_notes, edit_tags
run_dir, run_id, who, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
print("GO", flush=True)
for i in range(count):
    edit_tags(run_dir, run_id, add=[f"{who}-{i}"])
    edit_notes(run_dir, run_id, f"{who} says {i}")
print("EDITED", count, flush=True)
"""


def start_run(tmp_path: Path, root: Path, run_id: str, steps: int) -> None:
    script = relkit.write_script(tmp_path, "first.py", f"""
        import sys
        import logger
        logger.init(project="p", id={run_id!r}, dir=sys.argv[1], tags=["orig"], notes="orig")
        for i in range({steps}):
            logger.log({{"loss": 1.0 / (i + 1)}})
        logger.finish()
    """)
    proc = relkit.run_script(script, root)
    assert proc.returncode == 0, proc.stderr


def test_a_resumed_run_writing_while_an_editor_tags_it(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    start_run(tmp_path, root, "res", 100)
    edits, steps = relkit.scale(40, 400), relkit.scale(1000, 20000)
    resumer = relkit.Child(relkit.write_script(tmp_path, "resumer.py", RESUMER), root, steps)
    editor = None
    try:
        assert resumer.expect("RESUMED") == "RESUMED 100"
        # The editor starts once the resume is on disk (an edit racing the resume's own init
        # has its own test below) and tags while the resumed script logs.
        editor = relkit.Child(relkit.write_script(tmp_path, "editor.py", EDITOR), root / "p" / "res",
                              "res", "ed", edits)
        (rc_e, _, err_e), (rc_r, _, err_r) = editor.finish(), resumer.finish()
    finally:
        resumer.close()
        if editor is not None:
            editor.close()
    assert rc_r == 0 and rc_e == 0, err_r + err_e
    run = relkit.read_root(root).runs["p/res"]
    assert run.state == "finished" and run.skipped_frames == 0
    relkit.assert_contiguous(sorted(run.history.steps))
    assert len(run.history) == 100 + steps
    assert run.notes == f"ed says {edits - 1}"
    assert set(run.tags) == {"orig"} | {f"ed-{i}" for i in range(edits)}


RACE = r"""
import sys
from pathlib import Path
import logger
from logger import sdk
from logger.edit import edit_notes, edit_tags
root = Path(sys.argv[1])
read_previous = sdk._read_previous


def read_then_edit(run_dir):
    previous = read_previous(run_dir)
    # An editor saves a tag and a note between the resume's read and its first write.
    edit_tags(run_dir, "res", add=["racing"])
    edit_notes(run_dir, "res", "racing note")
    return previous


sdk._read_previous = read_then_edit
logger.init(project="p", id="res", dir=root, resume="allow")
logger.log({"loss": 0.5})
logger.finish()
"""


def test_an_edit_racing_a_resume_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    start_run(tmp_path, root, "res", 3)
    proc = relkit.run_script(relkit.write_script(tmp_path, "race.py", RACE), root)
    assert proc.returncode == 0, proc.stderr
    run = relkit.read_root(root).runs["p/res"]
    assert len(run.history) == 4
    assert (set(run.tags), run.notes) == ({"orig", "racing"}, "racing note")


def test_two_editors_tagging_and_noting_at_once_agree_for_every_reader(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    start_run(tmp_path, root, "ed2", 10)
    run_dir = root / "p" / "ed2"
    count = relkit.scale(60, 1000)
    script = relkit.write_script(tmp_path, "editor.py", EDITOR)
    editors = [relkit.Child(script, run_dir, "ed2", who, count) for who in ("a", "b")]
    following = RootReader(root)  # one reader follows the edits as they land
    try:
        for child in editors:
            child.expect("GO")
        while any(child.proc.poll() is None for child in editors):
            following.scan()
        results = [child.finish() for child in editors]
    finally:
        for child in editors:
            child.close()
    for rc, out, err in results:
        assert rc == 0 and f"EDITED {count}" in out, err
    following.scan()
    segments = relkit.segment_files(run_dir)
    assert len(segments) == 1 + 2 * 2 * count, "every edit is its own segment"
    readers = {"following": following, "fresh": relkit.read_root(root)}
    for order in ("reversed", "shuffled"):
        paths = list(reversed(segments)) if order == "reversed" else random.sample(segments, len(segments))
        reader = RootReader(root)
        for path in paths:  # one file at a time, as a watcher reports them
            reader.read_paths([path])
        readers[order] = reader
    states = {name: (r.runs["p/ed2"].tags, r.runs["p/ed2"].notes) for name, r in readers.items()}
    tags, notes = states["fresh"]
    assert set(tags) == {"orig"} | {f"{who}-{i}" for who in "ab" for i in range(count)}
    assert notes in (f"a says {count - 1}", f"b says {count - 1}")
    assert all(state == (tags, notes) for state in states.values()), states
    api_run = Api(root).run("p/ed2")
    assert (tuple(api_run.tags), api_run.notes) == (tags, notes)
