"""Pilot tests of the Media tab for what it does not draw (audio, video, html, 3-D objects,
molecules: described, with `y` copying the file's path) and for incremental tables (shown
whole: every increment so far)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

import logger
from tests.test_tui_media import open_media, select
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp

PDB = "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\nEND\n"


def _log_files(root: Path, tmp: Path) -> None:
    logger.init(dir=root, project="p", name="files-run")
    mol = tmp / "mol.pdb"
    mol.write_text(PDB)
    table = logger.Table(columns=["i", "text"], log_mode="INCREMENTAL")
    for step in range(3):
        for i in range(2):
            table.add_data(step * 2 + i, f"row {step * 2 + i}")
        logger.log({
            "song": logger.Audio(np.sin(np.linspace(0, 440, 8000)) * 0.5, sample_rate=8000, caption="a tone"),
            "page": logger.Html("<html><head><style>p {color: red}</style></head><body><h1>Eval &amp; "
                                "notes</h1><script>alert(1)</script><p>loss fell\x1b[31m</p></body></html>"),
            "cloud": logger.Object3D(np.random.default_rng(0).normal(size=(50, 3))),
            "mol": logger.Molecule(str(mol)),
            "clip": logger.Video(np.zeros((3, 3, 8, 8), dtype=np.uint8), fps=2),
            "preds": table, "loss": 1.0 / (step + 1),
        }, step=step)
    logger.finish()


async def test_audio_html_video_3d_and_molecules_are_described_and_y_copies_the_path(root: Path, tmp_path: Path) -> None:
    _log_files(root, tmp_path)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        panel = await open_media(pilot)
        await select(pilot, panel, "song")
        entry = dict(panel.shown.entry)
        assert entry["type"] == "Audio" and entry["duration"] == "1.00 s" and entry["caption"] == "a tone"
        assert entry["sample rate"] == "8000 Hz" and entry["file"].startswith("media/audio/song_2_")
        with wave.open(panel.shown.file) as w:
            assert w.getframerate() == 8000
        await pilot.press("y")
        await pilot.pause()
        assert pilot.app.clipboard == panel.shown.file
        await select(pilot, panel, "page")
        assert dict(panel.shown.entry)["type"] == "Html"
        text = str(panel.query_one("#media-text").render())
        assert "Eval & notes" in text and "loss fell\\x1b[31m" in text
        assert "alert(1)" not in text and "color: red" not in text and "\x1b" not in text
        for key, kind in (("cloud", "Object3D"), ("mol", "Molecule"), ("clip", "Video")):
            await select(pilot, panel, key)
            entry = dict(panel.shown.entry)
            assert entry["type"] == kind and Path(panel.shown.file).is_file(), entry
        assert dict(panel.shown.entry)["format"] == "gif" and dict(panel.shown.entry)["frame"] == "8x8"


async def test_an_incremental_table_shows_every_row_logged_so_far(root: Path, tmp_path: Path) -> None:
    _log_files(root, tmp_path)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        panel = await open_media(pilot)
        await select(pilot, panel, "preds")
        assert panel.shown.view == "table" and [r[0] for r in panel.shown.rows] == [str(i) for i in range(6)]
        await pilot.press("home")
        await wait_for(pilot, lambda: panel.step == 0 and len(panel.shown.rows) == 2)
        assert "Table 2 rows" in panel.shown.title
