"""`runwatch top`: this host's GPUs and which run's processes use them, read-only (nvitop-like).

GPUs come through logger.nvml (the sampler's thin adapter over pynvml); processes through
psutil. A run is on this host when one of its segments without a finish was written here by
a pid that is still alive (logger.liveness.pid_verdict): that pid's process tree is the
run's, and a pid NVML lists on a GPU is matched against those trees.

The default view redraws the whole table every interval, as `watch` does: one read-only
table needs no widgets, works over any ssh/tmux, shares every line with `--once`, and keeps
this command headless (no Textual). Every string from a file or a process is escaped.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from logger.liveness import pid_verdict
from logger.nvml import GpuSampler, open_gpus
from logger.reader import RootReader
from logger.system import descendants
from logger.textsafe import TerminalWriter, one_line, safe_text, terminal_text

from .common import CliError, root_path
from .parser import ROOT_HELP, Command

DEFAULT_INTERVAL = 2.0
PRIME = 0.5  # --once: seconds between the two readings CPU percentages are measured over
GIB = 2**30
CLEAR = "\x1b[H\x1b[2J"


@dataclass
class RunProcs:
    """A live run's writer on this host and its process tree, measured now."""

    run: str  # "project/id"
    name: str
    pid: int
    pids: set[int]
    cpu: float = 0.0  # percent of one core, summed over the tree
    rss: int = 0
    gpu_memory: dict[int, int] = field(default_factory=dict)  # GPU index -> bytes the tree holds


@dataclass
class GpuRow:
    index: int
    values: dict[str, float]
    processes: list[tuple[int, int | None, str]]  # (pid, bytes or None, whose: run or process)


@dataclass
class Snapshot:
    gpus: list[GpuRow]
    gpu_problem: str  # why there are no GPU rows ("" when NVML works)
    runs: list[RunProcs]
    at: float


class HostView:
    """Reads the root incrementally and samples this host's GPUs and the runs' processes.
    psutil.Process objects are kept between samples: cpu_percent() measures since the last call."""

    def __init__(self, root: Path, nvml: Any = None, psutil: Any = None) -> None:
        if psutil is None:
            try:
                import psutil  # type: ignore[import-untyped, no-redef, unused-ignore]
            except ImportError:
                raise CliError("runwatch top needs psutil: pip install psutil") from None
        self.psutil = psutil
        self.reader = RootReader(root, keep_history=False)
        self.gpus: GpuSampler | None
        self.gpus, self.gpu_problem, _loud = open_gpus(nvml)
        self._procs: dict[int, Any] = {}

    def sample(self) -> Snapshot:
        self.reader.scan()
        self.reader.refresh_states()
        runs = [self._measure(path, run.name or run.id, pid) for path, run, pid in self._writers()]
        owner = {pid: r for r in runs for pid in r.pids}
        rows = []
        for i in range(self.gpus.count if self.gpus else 0):
            assert self.gpus is not None
            procs = []
            for pid, used in self.gpus.processes(i):
                run = owner.get(pid)
                if run is not None:
                    run.gpu_memory[i] = run.gpu_memory.get(i, 0) + (used or 0)
                procs.append((pid, used, run.run if run else self._process_name(pid)))
            rows.append(GpuRow(i, self.gpus.device(i), procs))
        live = {pid for r in runs for pid in r.pids}
        self._procs = {pid: p for pid, p in self._procs.items() if pid in live}
        return Snapshot(rows, self.gpu_problem, runs, time.time())

    def _writers(self) -> list[tuple[str, Any, int]]:
        """(project/id, run, writer pid) of every running run written by a live pid here."""
        out = []
        for path, run in sorted(self.reader.runs.items()):
            if run.state != "running":
                continue
            for seg in run.segments.values():
                start = seg.start
                if start is not None and seg.finish is None and seg.role != "editor" and \
                        pid_verdict(start) is True:
                    out.append((path, run, start.pid))
        return out

    def _measure(self, path: str, name: str, pid: int) -> RunProcs:
        tree = descendants(pid)
        pids = {pid, *(tree if tree is not None else self._children(pid))}
        out = RunProcs(path, name, pid, pids)
        for p in sorted(pids):
            proc = self._procs.get(p)
            try:
                if proc is None:
                    proc = self._procs[p] = self.psutil.Process(p)
                with proc.oneshot():
                    out.cpu += proc.cpu_percent(None)  # 0.0 on the first call: the baseline
                    out.rss += proc.memory_info().rss
            except self.psutil.Error:
                continue
        return out

    def _children(self, pid: int) -> list[int]:
        try:
            return [c.pid for c in self.psutil.Process(pid).children(recursive=True)]
        except self.psutil.Error:
            return []

    def _process_name(self, pid: int) -> str:
        try:
            return f"{self.psutil.Process(pid).name()} (not a run here)"
        except self.psutil.Error:
            return "? (not visible here)"

    def close(self) -> None:
        if self.gpus is not None:
            self.gpus.close()


# -- rendering ----------------------------------------------------------------------------------
def render(snap: Snapshot, root: Path) -> list[str]:
    """The table as lines of plain text, every string from a file or process escaped."""
    stamp = time.strftime("%H:%M:%S", time.localtime(snap.at))
    gpus = f"{len(snap.gpus)} GPU{'s' if len(snap.gpus) != 1 else ''}" if not snap.gpu_problem \
        else "no GPU"
    lines = [f"runwatch top · {safe_text(socket.gethostname())} · {gpus} · "
             f"{len(snap.runs)} live run{'s' if len(snap.runs) != 1 else ''} under "
             f"{safe_text(str(root))} · {stamp}", ""]
    if snap.gpu_problem:
        lines.append(f"GPUs: none seen here ({safe_text(snap.gpu_problem)})")
    else:
        lines.append(f"{'GPU':>3}  {'util':>4}  {'memory':>15}  {'temp':>5}  {'power':>11}  processes")
        for row in snap.gpus:
            lines += _gpu_lines(row)
    lines += ["", f"{'RUN':<34} {'PID':>7} {'CPU%':>6} {'RSS':>9} {'GPU MEM':>9}  GPUS"]
    if not snap.runs:
        lines.append("(no live run of this host under the root)")
    for r in snap.runs:
        label = f"{one_line(r.run, 20)} {one_line(r.name, 13)}"
        gpu_mem = sum(r.gpu_memory.values())
        lines.append(f"{label:<34} {r.pid:>7} {r.cpu:>6.1f} {_gib(r.rss):>9} "
                     f"{_gib(gpu_mem) if r.gpu_memory else '':>9}  "
                     f"{','.join(str(i) for i in sorted(r.gpu_memory))}")
    return lines


def _gpu_lines(row: GpuRow) -> list[str]:
    v = row.values
    util = f"{v['gpu']:.0f}%" if "gpu" in v else "?"
    mem = (f"{v['memoryAllocatedBytes'] / GIB:.1f}/{v['memoryTotalBytes'] / GIB:.1f} GiB"
           if "memoryTotalBytes" in v else "?")
    temp = f"{v['temp']:.0f}°C" if "temp" in v else "?"
    power = f"{v.get('powerWatts', 0):.0f}" + (
        f"/{v['enforcedPowerLimitWatts']:.0f} W" if "enforcedPowerLimitWatts" in v else " W")
    power = power if "powerWatts" in v else "?"
    head = f"{row.index:>3}  {util:>4}  {mem:>15}  {temp:>5}  {power:>11}  "
    procs = [f"{pid} {safe_text(who)}" + (f" {_gib(used)}" if used is not None else "")
             for pid, used, who in row.processes] or ["-"]
    return [head + procs[0]] + [" " * len(head) + p for p in procs[1:]]


def _gib(n: int | None) -> str:
    """Bytes for a column: GiB to a tenth, MiB under one GiB (a script's RSS)."""
    if n is None:
        return ""
    return f"{n / GIB:.1f} GiB" if n >= GIB else f"{n / 2**20:.0f} MiB"


# -- the command --------------------------------------------------------------------------------
def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", nargs="?", metavar="ROOT", help=ROOT_HELP)
    p.add_argument("--once", action="store_true", help="print the table once and exit")
    p.add_argument("-n", "--interval", type=float, default=DEFAULT_INTERVAL, metavar="SECONDS",
                   help=f"seconds between redraws (default {DEFAULT_INTERVAL:g})")


def run(args: argparse.Namespace, out: TextIO) -> int:
    if not args.interval > 0:
        raise CliError(f"--interval {args.interval:g}: give a number of seconds above 0")
    root = root_path(args.root)
    return cmd_top(root, out, once=args.once, interval=args.interval)


def cmd_top(root: Path, out: TextIO, once: bool = False, interval: float = DEFAULT_INTERVAL,
            nvml: Any = None, frames: int | None = None) -> int:
    """`--once`: one table (CPU measured over PRIME seconds); else a redraw every `interval`
    until Ctrl-C (or `frames` redraws, for tests)."""
    view = HostView(root, nvml)
    tty = out.isatty()
    try:
        view.sample()  # the baseline of every process's CPU percentage
        time.sleep(PRIME if once else min(PRIME, interval))
        shown = 0
        while True:
            lines = render(view.sample(), root)
            if tty and not once:
                width = shutil.get_terminal_size().columns
                raw = out.stream if isinstance(out, TerminalWriter) else out  # past the escaping
                # One write a frame: with PYTHONUNBUFFERED (or a full buffer) a clear written on
                # its own showed a blank screen until the table came, and Ctrl-C between the
                # two left the screen blank.
                raw.write(CLEAR + terminal_text("\n".join(line[:width] for line in lines) + "\n"))
            else:
                out.write("\n".join(lines) + "\n" + ("" if once else "\n"))
            out.flush()
            shown += 1
            if once or (frames is not None and shown >= frames):
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        view.close()


TOP = Command("top", "this host's GPUs and which live run's processes use them (read-only)", """\
  runwatch top                   redraws every 2 s, like top; Ctrl-C leaves
  runwatch top --once runs       one table, for scripts and logs
  runwatch top -n 5""", configure, run)
