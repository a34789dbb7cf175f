"""A writer that has just framed events writes no heartbeat behind them: the events on their way
to disk say the writer is alive as well as a beat would. A silent run's system sample every 10 s
was followed by a heartbeat a few ms later (the beat's check read `last_write`, which is set only
once the disk write is done), so a silent run wrote two frames every 10 s where one says it all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from logger import events as ev
from tests.conftest import script_env

# One value a little more than the (shortened) heartbeat interval apart, over and over: each comes
# to a writer whose last write is older than the interval, as a silent run's system sample every
# 10 s comes just when its 10 s beat is due. Then a quiet second: a quiet writer still beats.
WRITER = """
import sys, time
import logger, logger.writer
logger.writer.HEARTBEAT_INTERVAL = 0.3
run = logger.init(project="p", id="r", dir=sys.argv[1])
for i in range(8):
    time.sleep(0.32)
    run.log({"loss": float(i)})
time.sleep(1.0)
run.finish()
"""


def _events(root: Path) -> list[object]:
    out: list[object] = []
    for path in sorted(root.glob("p/r/*.rws")):
        out += ev.scan_frames(path.read_bytes(), ev.HEADER_SIZE)[0]
    return out


def test_no_heartbeat_follows_what_the_writer_has_just_framed(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    subprocess.run([sys.executable, str(script), str(tmp_path)], env=script_env(), check=True,
                   timeout=60, capture_output=True)
    events = _events(tmp_path)
    logs = [e for e in events if type(e) is ev.Log]
    assert len(logs) == 8, events
    beats = [e for e in events if type(e) is ev.Heartbeat]
    assert beats, "a writer quiet past the interval still beats"
    for log in logs:
        close = [b for b in beats if 0 <= b.time - log.time < 0.2]  # type: ignore[attr-defined]
        assert not close, f"a heartbeat {close[0].time - log.time:.3f} s after a log it adds nothing to"  # type: ignore[attr-defined]
