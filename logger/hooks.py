"""Process hooks: how a run ends when its script exits, raises, is signalled or forks.

A script's own SIGTERM/SIGINT handler must run with the run still live (the preemption
pattern: set a flag, log the last metrics, save a checkpoint, exit), whether it was installed
before `init` or after. So runwatch's handler stays first and calls the script's: handlers set
before `init` are kept, and `signal.signal`/`signal.getsignal` are wrapped for these two
signals so that one set later is called from ours (and reported back as the current one).
Nothing is finished on the signal itself unless the signal's action is to end the process
(SIG_DFL); otherwise the state is decided at exit (see `outcome`). While `init` makes its
first write or `finish` writes the last, a signal waits (`critical`): it is handled the moment
the write is done, so no step and no finish event is lost to it and no lock is re-entered.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGTERM, signal.SIGINT)
FinishAll = Callable[[int, str, "str | None"], None]

_installed = False
_finish_all: FinishAll = lambda code, state, error: None  # noqa: E731 - set by install()
_exit_code: int | None = None
_exception: tuple[str, int, str] | None = None  # (state, exit code, traceback) of an uncaught one
_signalled: int | None = None  # the last SIGTERM/SIGINT this process received
_critical = 0
_deferred: list[int] = []
_script_handlers: dict[int, Any] = {}  # what the script's handler is, run from ours
_real_signal = signal.signal
_real_getsignal = signal.getsignal


def describe_exception(exc_type: type[BaseException] | None, exc: BaseException | None,
                       tb: TracebackType | None) -> tuple[str, int, str]:
    """(state, exit code, traceback text) for an exception that ended a run."""
    text = "".join(traceback.format_exception(exc_type, exc, tb)) if exc_type else ""
    if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
        return "killed", 130, text or "KeyboardInterrupt"
    if exc_type is not None and issubclass(exc_type, SystemExit):
        code = _code_of(exc.code if isinstance(exc, SystemExit) else 1)
        if code and _signalled is not None:
            return "killed", code, f"{signal.Signals(_signalled).name} received"
        return ("finished" if code == 0 else "failed"), code, ""
    return "failed", 1, text


def outcome() -> tuple[int, str, str | None]:
    """(exit code, state, error) of a process that is exiting now.

    As W&B: the exit code decides (0 is finished, even after a signal the script handled and
    exited cleanly from). A non-zero exit after SIGTERM/SIGINT, or a KeyboardInterrupt, is
    killed; an uncaught exception is failed with its traceback.
    """
    if _exception is not None:
        state, code, text = _exception
        return code, state, text
    code = _exit_code or 0
    if code == 0:
        return 0, "finished", None
    if _signalled is not None:
        return code, "killed", f"{signal.Signals(_signalled).name} received"
    if code in (128 + signal.SIGTERM, 128 + signal.SIGINT):  # a handler runwatch never saw
        return code, "killed", f"exit code {code} ({signal.Signals(code - 128).name})"
    return code, "failed", None


@contextmanager
def critical() -> Iterator[None]:
    """A signal to the main thread during this block is handled when the block ends."""
    global _critical
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _critical += 1
    try:
        yield
    finally:
        _critical -= 1
        if not _critical and _deferred:
            pending = list(dict.fromkeys(_deferred))
            _deferred.clear()
            for sig in pending:
                _on_signal(sig, None)


def install(finish_all: FinishAll, after_fork_in_child: Callable[[], None]) -> None:
    """Once per process, before the first run is visible on disk."""
    global _installed, _finish_all
    _finish_all = finish_all
    if _installed:
        return
    _installed = True
    atexit.register(_at_exit)
    _wrap_excepthook_and_exit()
    if threading.current_thread() is threading.main_thread():
        for sig in SIGNALS:
            previous = _real_getsignal(sig)
            if previous in (signal.SIG_IGN, None):  # nohup'd, or set outside Python: leave it
                continue
            try:
                _real_signal(sig, _on_signal)
            except (ValueError, OSError):
                continue
            _script_handlers[sig] = previous
        signal.signal = _signal
        signal.getsignal = _getsignal
    os.register_at_fork(after_in_child=lambda: _forked(after_fork_in_child))


def _forked(after_fork_in_child: Callable[[], None]) -> None:
    global _signalled, _exit_code, _exception
    _signalled = _exit_code = _exception = None
    _deferred.clear()
    after_fork_in_child()


def _wrap_excepthook_and_exit() -> None:
    previous_hook = sys.excepthook

    def excepthook(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        global _exception
        _exception = describe_exception(tp, value, tb)
        previous_hook(tp, value, tb)

    sys.excepthook = excepthook
    real_exit = sys.exit

    def exit(code: Any = None) -> Any:  # noqa: A001 - records the code, then exits as before
        _note_exit(code)
        return real_exit(code)

    sys.exit = exit


def _code_of(code: Any) -> int:
    return code if isinstance(code, int) else (0 if code is None else 1)


def _note_exit(code: Any) -> None:
    global _exit_code
    _exit_code = _code_of(code)


def _on_signal(sig: int, frame: FrameType | None) -> None:
    """runwatch's handler: the script's handler runs first, with every run still live."""
    global _signalled
    if _critical:
        _deferred.append(sig)
        return
    _signalled = sig
    handler = _script_handlers.get(sig, signal.SIG_DFL)
    if callable(handler):
        try:
            handler(sig, frame)
        except SystemExit as exc:  # `raise SystemExit(1)` in a handler bypasses sys.exit
            _note_exit(exc.code)
            raise
        return
    if handler == signal.SIG_IGN:
        return
    # SIG_DFL: the signal ends the process now, without atexit; record every run first.
    _finish_all(128 + sig, "killed", f"{signal.Signals(sig).name} received")
    _real_signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


def _signal(signalnum: Any, handler: Any) -> Any:
    """`signal.signal`, except that for SIGTERM/SIGINT the script's handler runs from ours."""
    if (signalnum not in _script_handlers or handler is _on_signal
            or threading.current_thread() is not threading.main_thread()
            or not (callable(handler) or handler in (signal.SIG_DFL, signal.SIG_IGN))):
        return _real_signal(signalnum, handler)
    previous = _script_handlers[signalnum]
    _script_handlers[signalnum] = handler
    _real_signal(signalnum, signal.SIG_IGN if handler == signal.SIG_IGN else _on_signal)
    return previous


def _getsignal(signalnum: Any) -> Any:
    if signalnum in _script_handlers:
        return _script_handlers[signalnum]
    return _real_getsignal(signalnum)


def _at_exit() -> None:
    code, state, error = outcome()
    _finish_all(code, state, error)
