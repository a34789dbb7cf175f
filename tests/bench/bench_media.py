"""Media benchmarks: what `log()` of an image costs the training loop, and how fast the Media
tab draws a large image.

    .venv/bin/python tests/bench/bench_media.py [--images 300]

Targets (issue 10): log() of an Image never waits on the disk (the file is written by the
media thread); a 1024x1024 PNG draws in the panel in well under a second. No asserts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

import logger  # noqa: E402


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<50} {value:>16}   {target}")


def bench_log_image(n: int, size: int) -> None:
    """log() of a prebuilt Image (the constructor encodes, as W&B's does) and of a new one."""
    with tempfile.TemporaryDirectory() as tmp:
        logger.init(dir=tmp, project="bench")
        arrays = [np.random.default_rng(i).integers(0, 255, (size, size, 3), dtype=np.uint8) for i in range(n)]
        images = [logger.Image(a) for a in arrays]
        made, logged = [], []
        for a, img in zip(arrays, images):
            t0 = time.perf_counter()
            logger.Image(a)
            t1 = time.perf_counter()
            logger.log({"img": img})
            t2 = time.perf_counter()
            made.append(t1 - t0)
            logged.append(t2 - t1)
        t0 = time.perf_counter()
        logger.finish()
        finish = time.perf_counter() - t0
    row(f"Image({size}x{size}x3) constructor (PNG encode)", f"{statistics.median(made) * 1e6:.0f} us")
    row(f"log({{'img': Image {size}x{size}}}) median", f"{statistics.median(logged) * 1e6:.0f} us",
        "no disk write inside")
    row(f"log() p99 over {n}", f"{sorted(logged)[int(n * 0.99) - 1] * 1e6:.0f} us")
    row("finish() (waits for the media files)", f"{finish * 1e3:.1f} ms")


def bench_draw(size: int) -> None:
    from tui.media_render import _half_blocks_pure, half_blocks

    with tempfile.TemporaryDirectory() as tmp:
        run = logger.init(dir=tmp, project="bench")
        a = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)
        logger.log({"img": logger.Image(a)})
        logger.finish()
        png = next(Path(run.dir).rglob("*.png")).read_bytes()
    t0 = time.perf_counter()
    half_blocks(png, 118, 36)
    pil = time.perf_counter() - t0
    row(f"half_blocks {size}x{size} PNG -> 118x36 cells (Pillow)", f"{pil * 1e3:.0f} ms", "well under 1 s")
    if size <= 256:
        t0 = time.perf_counter()
        _half_blocks_pure(png, 118, 36, (0, 0, 0))
        row(f"half_blocks {size}x{size} PNG, pure Python", f"{(time.perf_counter() - t0) * 1e3:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    print("media: log() of images")
    bench_log_image(args.images, 64)
    print("media: drawing")
    bench_draw(1024)
    bench_draw(256)


if __name__ == "__main__":
    main()
