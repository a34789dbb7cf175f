"""System metrics: a daemon thread samples the host and this process tree while a run is live,
and records `SystemStats` events with W&B's key names (stored without the "system." prefix).

psutil and pynvml (nvidia-ml-py) are imported inside that thread only, never by `import logger`.
A missing library, no GPU or a failing NVML call costs one line of explanation, never an
exception. Under DDP only one process per host samples (LOCAL_RANK 0, and a claim file).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import events as ev
from .atomic import write_atomic
from .host import process_alive, process_start_ticks

try:
    import fcntl
except ImportError:  # not POSIX: claims are taken over without a lock
    fcntl = None  # type: ignore[assignment]
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

ENV_INTERVAL = "RUNWATCH_SYSTEM_INTERVAL"
# W&B samples every 15 s. One sample here costs ~1 ms of CPU (tests/bench/bench_system.py, 2
# cores, ~180 processes; NVML adds ~20 calls a GPU): 0.01 % of a core at 10 s. What bounds the
# interval is storage: ~0.4 KB a sample here, ~8 KB on a 64-core 8-GPU box, so 10 s costs ~3 MB
# an hour there. 10 s: half W&B's interval, far below the 1 % CPU budget.
DEFAULT_INTERVAL = 10.0
MIN_INTERVAL = 0.1


class SystemSampler:
    """Samples every `interval` seconds until `stop()`, emitting through `emit`."""

    def __init__(self, emit: Callable[[ev.Event], None], now: Callable[[], float], interval: float,
                 note: Callable[[str, bool], None], tree_root: int | None = None,
                 nvml: Any = None) -> None:
        self._emit, self._now, self.interval, self._note = emit, now, interval, note
        self._root_pid = tree_root or os.getpid()
        self._nvml = nvml  # a stand-in for pynvml (tests); None: import the real one
        self._stop = threading.Event()
        self._procs: dict[int, Any] = {}
        self._base: dict[str, float] = {}
        self.samples = 0
        self.cpu_seconds = 0.0  # this thread's own CPU time spent sampling (the benchmark reads it)
        self._thread = threading.Thread(target=self._run, name="runwatch-system", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    def _run(self) -> None:
        # Import nothing until the first sample is due: psutil's import runs namedtuple's
        # eval(), and any eval() in a thread after the script ended resets CPython's "exit by
        # SIGINT" flag, so a script stopped at once by Ctrl-C exited 1 instead of -SIGINT.
        if self._stop.wait(min(self.interval, 1.0)):
            return
        try:
            import psutil  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            psutil = None
        gpus = self._open_gpus()
        problems = [] if psutil is not None else [
            "psutil is not installed (pip install psutil): no CPU, memory, disk or network metrics"]
        if psutil is not None:
            self._start_counters(psutil)
        first = True
        while not self._stop.wait(self.interval if self.samples else min(self.interval, 1.0)):
            started = time.thread_time()
            values = self._psutil_sample(psutil, problems) if psutil is not None else {}
            if gpus is not None:
                values.update(gpus.sample(self._pids()))
            if values:
                self._emit(ev.SystemStats(time=self._now(), values=values))
            self.samples += 1
            self.cpu_seconds += time.thread_time() - started
            if first:
                first = False
                self._report(problems + (gpus.failures if gpus is not None else []))
        if gpus is not None:
            gpus.close()

    def _report(self, problems: list[str]) -> None:
        """One line on what is not sampled and why. "No GPU here" is kept in the run's console
        only; a missing library or a failing call is printed for the person at the terminal."""
        if problems:
            parts = [p for p in [*problems, self._gpu_problem] if p]
            self._note("runwatch: system metrics: " + "; ".join(parts), True)
        elif self._gpu_problem:
            self._note(f"runwatch: system metrics: {self._gpu_problem}", self._gpu_loud)

    _gpu_problem = ""
    _gpu_loud = True

    def _open_gpus(self) -> Any:
        """NVML's sampler, or None with the reason kept for the one line of explanation."""
        from .nvml import open_gpus

        gpus, self._gpu_problem, self._gpu_loud = open_gpus(self._nvml)
        return gpus

    def _pids(self) -> set[int]:
        return set(self._procs) | {self._root_pid}

    def _start_counters(self, psutil: Any) -> None:
        """What network and disk counters read now: samples report what the run did since."""
        psutil.cpu_percent(percpu=True)  # the first call only sets the baseline
        try:
            net = psutil.net_io_counters()
            self._base.update({"network.sent": net.bytes_sent, "network.recv": net.bytes_recv})
        except (OSError, AttributeError):
            pass
        try:
            disk = psutil.disk_io_counters()
            self._base.update({"disk.in": disk.read_bytes, "disk.out": disk.write_bytes})
        except (OSError, AttributeError, RuntimeError):
            pass
        self._tree(psutil)

    def _psutil_sample(self, psutil: Any, problems: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, part in (("process tree", self._tree_values), ("cpu", self._cpu_values),
                           ("memory", self._memory_values), ("disk", self._disk_values),
                           ("network", self._network_values)):
            try:
                part(psutil, out)
            except Exception as exc:  # noqa: BLE001 - one part failing never stops the rest
                if not self.samples:
                    problems.append(f"{name}: {exc}")
        return out

    def _tree(self, psutil: Any) -> list[Any]:
        """This process and its descendants, as cached psutil.Process objects: a process's
        cpu_percent() is measured since its previous call, so the same object must be kept."""
        root = self._procs.get(self._root_pid) or psutil.Process(self._root_pid)
        pids = descendants(self._root_pid)
        if pids is None:  # no /proc/PID/task/TID/children: psutil scans every process
            try:
                found = [root, *root.children(recursive=True)]
            except psutil.Error:
                found = [root]
        else:
            found = [root, *(self._procs.get(pid) or _process(psutil, pid) for pid in pids)]
        procs = {p.pid: self._procs.get(p.pid, p) for p in found if p is not None}
        for proc in procs.values():
            if proc.pid not in self._procs:
                try:
                    proc.cpu_percent(None)
                except psutil.Error:
                    pass
        self._procs = procs
        return list(procs.values())

    def _tree_values(self, psutil: Any, out: dict[str, float]) -> None:
        rss = threads = 0
        cpu = 0.0
        for proc in self._tree(psutil):
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    threads += proc.num_threads()
                    cpu += proc.cpu_percent(None)
            except psutil.Error:
                continue
        total = psutil.virtual_memory().total
        out["proc.memory.rssMB"] = rss / 1024 / 1024
        out["proc.memory.percent"] = 100.0 * rss / total if total else 0.0
        out["cpu"] = cpu / (psutil.cpu_count() or 1)  # W&B: the tree's CPU over all cores
        out["proc.cpu.threads"] = float(threads)

    def _cpu_values(self, psutil: Any, out: dict[str, float]) -> None:
        for i, percent in enumerate(psutil.cpu_percent(percpu=True)):
            out[f"cpu.{i}.cpu_percent"] = float(percent)

    def _memory_values(self, psutil: Any, out: dict[str, float]) -> None:
        mem = psutil.virtual_memory()
        out["memory_percent"] = out["memory"] = float(mem.percent)  # W&B now; W&B before 0.17
        out["proc.memory.availableMB"] = mem.available / 1024 / 1024

    def _disk_values(self, psutil: Any, out: dict[str, float]) -> None:
        usage = psutil.disk_usage("/")
        out["disk./.usagePercent"] = float(usage.percent)
        out["disk./.usageGB"] = usage.used / 1024**3
        if "disk.in" in self._base:
            disk = psutil.disk_io_counters()
            out["disk.in"] = (disk.read_bytes - self._base["disk.in"]) / 1024 / 1024
            out["disk.out"] = (disk.write_bytes - self._base["disk.out"]) / 1024 / 1024

    def _network_values(self, psutil: Any, out: dict[str, float]) -> None:
        if "network.sent" in self._base:
            net = psutil.net_io_counters()
            out["network.sent"] = float(net.bytes_sent - self._base["network.sent"])
            out["network.recv"] = float(net.bytes_recv - self._base["network.recv"])


def descendants(pid: int) -> list[int] | None:
    """Every descendant of `pid` from /proc/PID/task/TID/children (Linux): it reads only the
    tree's own files, where psutil reads every process on the host (3.4 ms for 180 of them)."""
    out: list[int] = []
    queue, seen = [pid], {pid}
    while queue:
        current = queue.pop()
        try:
            tids = os.listdir(f"/proc/{current}/task")
        except OSError:
            if current == pid:
                return None
            continue
        for tid in tids:
            try:
                with open(f"/proc/{current}/task/{tid}/children", "rb") as f:
                    children = [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                if current == pid and tid == str(pid):
                    return None  # a kernel without the children file
                continue
            for child in children:
                if child not in seen:
                    seen.add(child)
                    out.append(child)
                    queue.append(child)
    return out


def _process(psutil: Any, pid: int) -> Any:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def resolve_interval(settings: dict[str, Any]) -> float:
    """Seconds between samples; 0 turns sampling off. An init setting (`system_interval`, or
    W&B's `x_stats_sampling_interval` / `x_disable_stats` / `_disable_stats`) wins over
    $RUNWATCH_SYSTEM_INTERVAL, which wins over the default."""
    if settings.get("x_disable_stats") or settings.get("_disable_stats"):
        return 0.0
    for key in ("system_interval", "x_stats_sampling_interval"):
        if settings.get(key) is not None:
            return _interval(settings[key], key)
    env = os.environ.get(ENV_INTERVAL)
    if env is not None and env.strip():
        return _interval(env, f"${ENV_INTERVAL}")
    return DEFAULT_INTERVAL


def _interval(value: Any, where: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}={value!r}: give a number of seconds between system samples "
                         "(0 turns them off)") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{where}={value!r}: must be 0 (off) or a positive number of seconds")
    return 0.0 if seconds == 0 else max(seconds, MIN_INTERVAL)


def claim_host(run_dir: Path) -> bool:
    """Whether this process samples for its host: not a LOCAL_RANK other than 0, and the first
    live claimant of `.system-<host>.claim` in the run directory (a dead one's is taken over)."""
    if os.environ.get("LOCAL_RANK", "0").strip() not in ("", "0"):
        return False
    path = run_dir / f".system-{socket.gethostname()}.claim"
    pid = os.getpid()
    mine = f"{pid} {process_start_ticks(pid)}\n".encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666)
    except FileExistsError:
        return _take_over(path, mine, pid)
    except OSError:
        return True  # cannot write a claim (a read-only directory): sample regardless
    try:
        os.write(fd, mine)
    finally:
        os.close(fd)
    return True


def _take_over(path: Path, mine: bytes, pid: int) -> bool:
    """A claim exists: take it over only if its claimant is gone, deciding under an exclusive
    lock of the claim file (the lock ends with its holder, even SIGKILLed), so of several
    processes starting at once exactly one does. The new claim is renamed in (no file is
    rewritten in place): a process that locked the old one sees it replaced, and looks again."""
    for _attempt in range(3):
        fd = _open_claim(path)
        if fd is None:
            return False
        try:
            if not _lock(fd):
                return False  # another process is deciding, for long: it samples, or no one
            if not os.path.samestat(os.fstat(fd), os.stat(path)):
                continue  # taken over meanwhile: decide on the claim there now
            return _claim_if_gone(fd, path, mine, pid)
        except OSError:
            return False
        finally:
            os.close(fd)  # and the lock with it
    return False


def _open_claim(path: Path) -> int | None:
    """The claim file, for writing where allowed: NFS locks a file open for reading only in
    shared mode (another user's claim: read-only, locked where the filesystem lets us)."""
    for flags in (os.O_RDWR, os.O_RDONLY):
        try:
            return os.open(path, flags | _CLOEXEC)
        except PermissionError:
            continue
        except OSError:
            return None
    return None


def _claim_if_gone(fd: int, path: Path, mine: bytes, pid: int) -> bool:
    try:
        other_pid, ticks = (int(x) for x in os.pread(fd, 64, 0).split()[:2])
    except (OSError, ValueError):
        if _age(path) < 5.0:
            return False  # just created by another process, not written yet
        other_pid, ticks = 0, 0
    if other_pid != pid and process_alive(other_pid, ticks):
        return False
    # The claimant is gone (a resume): this process takes over. No fsync: a claim means
    # something only while its process lives, and a reboot ends them all.
    write_atomic(path, mine)
    return True


def _lock(fd: int, wait: float = 2.0) -> bool:
    """An exclusive flock of `fd` within `wait` seconds; True too where the filesystem has
    no locks (as before them: a race there may let two processes sample)."""
    if fcntl is None:
        return True
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        except OSError:  # ENOLCK, EOPNOTSUPP: a filesystem without locks
            return True


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")


def tree_root() -> int:
    """The process whose tree is sampled: torchrun's agent (parent of every local rank), else us."""
    if os.environ.get("TORCHELASTIC_RUN_ID") and os.environ.get("LOCAL_RANK") is not None:
        return os.getppid()
    return os.getpid()
