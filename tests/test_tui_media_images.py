"""How the Media tab draws images: the protocol chosen from the environment (Kitty/Sixel where
the terminal has them, half-blocks in tmux, under Pilot and everywhere else), textual-image
loaded without querying the terminal, and large images decoded and downscaled with Pillow."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import textwrap
import tty
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from tui.media_render import _half_blocks_pure, half_blocks, image_protocol, images_setting_problem
from tui.widgets.media_view import pick_protocol

KITTY = {"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}


@pytest.mark.parametrize(("env", "tty", "lib", "want"), [
    (KITTY, True, True, "kitty"),
    ({"TERM": "xterm-256color", "TERM_PROGRAM": "ghostty"}, True, True, "kitty"),
    ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, True, True, "sixel"),
    ({"TERM": "foot"}, True, True, "sixel"),
    ({"TERM": "xterm-256color", "KONSOLE_VERSION": "230804"}, True, True, "sixel"),
    ({"TERM": "xterm-256color"}, True, True, "halfblock"),  # unknown: no guessing
    ({**KITTY, "TMUX": "/tmp/tmux-0/default,1,0"}, True, True, "halfblock"),  # kitty outside tmux
    ({"TERM": "tmux-256color", "KITTY_WINDOW_ID": "1"}, True, True, "halfblock"),
    ({"TERM": "screen", "STY": "1.pts"}, True, True, "halfblock"),
    (KITTY, False, True, "halfblock"),  # not a terminal (Pilot, a pipe)
    (KITTY, True, False, "halfblock"),  # textual-image not installed
    ({**KITTY, "RUNWATCH_IMAGES": "halfblock"}, True, True, "halfblock"),
    ({"TERM": "xterm-256color", "TMUX": "x", "RUNWATCH_IMAGES": "sixel"}, True, True, "sixel"),
    ({"RUNWATCH_IMAGES": "kitty"}, False, True, "halfblock"),  # forcing cannot draw into a pipe
])
def test_the_image_protocol_is_chosen_from_the_environment(env, tty, lib, want) -> None:
    assert image_protocol(env, tty, lib) == want


def test_under_pilot_images_are_half_blocks_whatever_the_terminal() -> None:
    assert pick_protocol(headless=True, env=KITTY) == ("halfblock", None)


def test_textual_image_loads_on_a_terminal_without_sending_it_a_query(tmp_path: Path) -> None:
    """Its import asks a tty for Sixel/Kitty support; answers would reach Textual as keys."""
    script = textwrap.dedent("""
        import sys
        from tui.widgets.media_view import pick_protocol
        protocol, widget = pick_protocol(headless=False, env={"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"})
        print("PICKED", protocol, widget.__name__, sys.__stdout__.isatty(), flush=True)
    """)
    out = _on_a_pty([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    assert "PICKED kitty TGPImage True" in out, out
    before = out.split("PICKED", 1)[0]
    assert "\x1b[" not in before and "\x1b_G" not in before, repr(before)  # no DA1, CSI 16t or TGP query


def _on_a_pty(argv: list[str], cwd: Path) -> str:
    """What `argv` writes with stdin and stdout a raw terminal (a query would be answered by
    nobody: textual-image times out after 0.1 s, and its query shows in what was written)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    proc = subprocess.Popen(argv, cwd=cwd, stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode("utf-8", "replace")


def _png(size: int) -> bytes:
    a = np.zeros((size, size, 3), dtype=np.uint8)
    a[: size // 2, :, 0] = 220
    a[size // 2 :, :, 2] = 180
    a[:, : size // 4, 1] = 90
    buf = io.BytesIO()
    PILImage.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_pillow_half_blocks_match_the_pure_python_ones_and_read_jpeg() -> None:
    png = _png(64)
    fast, pure = half_blocks(png, 40, 12), _half_blocks_pure(png, 40, 12, (0, 0, 0))
    assert len(fast) == len(pure) == 12 and len(fast[0]) == len(pure[0]) == 24
    diffs = [abs(a - b) for lf, lp in zip(fast, pure) for cf, cp in zip(lf, lp)
             for a, b in zip((*cf[1], *cf[2]), (*cp[1], *cp[2]))]
    assert max(diffs) <= 2
    buf = io.BytesIO()
    PILImage.new("RGB", (30, 10), (10, 200, 30)).save(buf, format="JPEG", quality=95)
    cells = half_blocks(buf.getvalue(), 30, 10)  # the pure path reads PNG only
    assert len(cells[0]) == 30 and all(abs(a - b) <= 4 for a, b in zip(cells[2][5][1], (10, 200, 30)))


def test_a_1024_pixel_png_is_downscaled_before_it_becomes_cells() -> None:
    cells = half_blocks(_png(1024), 118, 36)
    assert (len(cells[0]), len(cells)) == (72, 36)  # fitted to 36 rows: 72 x 72 pixels
    assert cells[0][-1][1] == (220, 0, 0) and cells[-1][0][2] == (0, 90, 180)
    with pytest.raises(ValueError, match="Pillow"):
        half_blocks(b"not an image", 10, 10)



def test_a_misspelt_images_setting_is_said_and_the_terminal_decides() -> None:
    env = {"RUNWATCH_IMAGES": "sixels", "TERM": "xterm-kitty"}
    problem = images_setting_problem(env)
    assert problem is not None and "'sixels'" in problem and "kitty, sixel, halfblock" in problem
    assert image_protocol(env, True, True) == image_protocol({"TERM": "xterm-kitty"}, True, True)
    assert images_setting_problem({"RUNWATCH_IMAGES": "Kitty"}) is None
    assert images_setting_problem({}) is None
