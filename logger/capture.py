"""What `init` starts beside the run and `finish` stops: console capture and system metrics.

`prepare(options)` reads the settings (and so rejects bad ones) before the run exists;
`Capture.start(run)` begins both; `stop_capture(run)` ends them just before the finish event.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from . import clock, redirect, system
from . import console as con

_SETTINGS = ("console", "system_interval", "x_stats_sampling_interval", "x_disable_stats",
             "_disable_stats")
_captures: dict[int, Capture] = {}  # id(run) -> its capture
_console_busy = threading.Lock()  # one console capture per process, whichever run holds it
_fork_hook = False


def prepare(options: Mapping[str, Any]) -> Capture:
    """The capture `init(...)` asked for: `console=`, `settings=`, and the environment."""
    settings = _settings(options)
    mode = settings.get("console") or os.environ.get("RUNWATCH_CONSOLE") or os.environ.get(
        "WANDB_CONSOLE") or "auto"
    if mode not in con.MODES:
        raise ValueError(f"console={mode!r} (from init, $RUNWATCH_CONSOLE or $WANDB_CONSOLE): use "
                         "'auto', 'redirect', 'wrap' or 'off'")
    limit = os.environ.get("RUNWATCH_CONSOLE_LIMIT", "")
    if limit and not limit.isdigit():
        raise ValueError(f"$RUNWATCH_CONSOLE_LIMIT={limit!r}: give a number of characters")
    return Capture(mode, system.resolve_interval(settings), int(limit or con.DEFAULT_LIMIT))


def _settings(options: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    given = options.get("settings")
    if isinstance(given, Mapping):
        out.update({k: v for k, v in given.items() if k in _SETTINGS})
    elif given is not None:  # a settings object: W&B's own, or anything with attributes
        out.update({k: getattr(given, k) for k in _SETTINGS if getattr(given, k, None) is not None})
    out.update({k: options[k] for k in _SETTINGS if options.get(k) is not None})
    return out


class Capture:
    """The console capture and system sampler of one run."""

    def __init__(self, mode: str, interval: float, limit: int) -> None:
        self.mode, self.interval, self.limit = mode, interval, limit
        self.console: redirect.Redirect | con.Wrap | None = None
        self.sampler: system.SystemSampler | None = None
        self.recorder: con.Recorder | None = None

    def start(self, run: Any) -> None:
        """Begin capturing for `run`; anything that fails is one line on stderr, never raised."""
        global _fork_hook
        if not _fork_hook:
            _fork_hook = True
            os.register_at_fork(after_in_child=_after_fork_in_child)
        self.recorder = con.Recorder(run._emit, clock.now, self.limit)
        _captures[id(run)] = self
        if self.mode != "off" and _console_busy.acquire(blocking=False):
            try:
                self.console = self._start_console()
            except Exception as exc:  # noqa: BLE001 - the run goes on without its console
                _console_busy.release()
                self.note(f"runwatch: console output is not captured: {exc}")
        try:
            if self.interval and system.claim_host(run.run_dir):
                self.sampler = system.SystemSampler(run._emit, clock.now, self.interval, self.note,
                                                    tree_root=system.tree_root())
                self.sampler.start()
        except Exception as exc:  # noqa: BLE001 - the run goes on without system metrics
            self.note(f"runwatch: system metrics are not sampled: {exc}")

    def _start_console(self) -> redirect.Redirect | con.Wrap:
        assert self.recorder is not None
        if self.mode in ("auto", "redirect"):
            if con.can_redirect():
                try:
                    return redirect.Redirect(self.recorder)
                except OSError as exc:
                    self.note(f"runwatch: console capture at fd level failed ({exc}); "
                              "capturing Python's sys.stdout/sys.stderr only")
            elif self.mode == "redirect":
                self.note("runwatch: console='redirect' needs sys.stdout on fd 1 and sys.stderr "
                          "on fd 2; capturing Python's sys.stdout/sys.stderr only")
        return con.Wrap(self.recorder)

    def note(self, text: str, loud: bool = True) -> None:
        """One line kept in the run's console; printed on the terminal too when `loud`."""
        line = text.rstrip("\n") + "\n"
        console = self.console
        try:
            if loud and isinstance(console, redirect.Redirect):
                console.write_terminal(line)  # past the capture: stored once, below
            elif loud:
                stream = sys.__stderr__ or sys.stderr
                stream.write(line)
                stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
        if self.recorder is not None:
            self.recorder.note(line)

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        if self.console is not None:
            try:
                self.console.stop()
            finally:
                self.console = None
                _console_busy.release()


def stop_capture(run: Any) -> None:
    """Called by `Run.finish` before its finish event: what was captured goes in before it."""
    capture = _captures.pop(id(run), None)
    if capture is not None:
        try:
            capture.stop()
        except Exception as exc:  # noqa: BLE001 - finishing must not fail over the console
            print(f"runwatch: stopping console capture failed: {exc}", file=sys.stderr)


def _after_fork_in_child() -> None:
    """A forked child records nothing of its own: its output reaches the parent's capture."""
    for capture in _captures.values():
        if capture.console is not None:
            capture.console.after_fork()
    _captures.clear()
