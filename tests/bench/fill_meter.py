"""The history filler's share of a load (bench_scale_app.py `load`): the CPU its fill calls
took (the filling thread's own clock), next to the floor measured in the same process: every
segment's frames decoded by a plain `msgspec.msgpack.Decoder(list[AnyEvent])`, the events
dropped. With `profile`, the fill calls also run under cProfile (the top lines printed).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from logger import events as ev


class FillMeter:
    """Wraps the store's `fill` (called under the store's lock: never two at once)."""

    def __init__(self, profile: bool = False) -> None:
        self.cpu = 0.0
        self.bytes = 0
        self.profiler = cProfile.Profile() if profile else None

    def install(self) -> None:
        import tui.model.store as store

        real = store.fill

        def fill(*args: Any, **kw: Any) -> Any:
            t0 = time.thread_time()
            if self.profiler is not None:
                self.profiler.enable()
            try:
                out = real(*args, **kw)
            finally:
                if self.profiler is not None:
                    self.profiler.disable()
                self.cpu += time.thread_time() - t0
            self.bytes += out[1]
            return out

        store.fill = fill  # type: ignore[assignment]

    def report(self, lines: int = 18) -> str:
        if self.profiler is None:
            return ""
        text = io.StringIO()
        pstats.Stats(self.profiler, stream=text).sort_stats("tottime").print_stats(lines)
        return text.getvalue()


def cpu_best(fn: Callable[[], object], repeat: int = 1) -> float:
    """The fewest CPU seconds (this process's) of `repeat` calls of `fn`: on a shared machine
    wall time swings 2-5x with other people's load, CPU time much less."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def decode_frames(path: Path) -> None:
    """One segment's bytes read and every frame's payload decoded by plain msgspec, the
    events dropped: the floor a reader of that segment is measured against."""
    decode = msgspec.msgpack.Decoder(list[ev.AnyEvent]).decode
    data = path.read_bytes()
    view, pos, n = memoryview(data), ev.HEADER_SIZE, len(data)
    while pos + ev.FRAME_HEAD_SIZE <= n:
        _, length, _ = ev.FRAME_HEAD.unpack_from(data, pos)
        start = pos + ev.FRAME_HEAD_SIZE
        decode(view[start : start + length])
        pos = start + length


def floor(root: Path, repeat: int = 1) -> float:
    """CPU seconds to decode every frame of every segment under `root` with plain msgspec."""
    paths = sorted(root.rglob("*" + ev.SEGMENT_SUFFIX))
    return cpu_best(lambda: [decode_frames(path) for path in paths], repeat)
