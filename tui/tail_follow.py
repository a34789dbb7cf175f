"""Following a root for `runwatch tail`: `run_tail` prints its events until stopped, or until
`--until-done` (and `--fail-on-alert`) says it is done. The lines themselves: tui/tail.py.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TextIO

from logger.textsafe import safe_text

from .cli.common import EXIT_OK, CliError, no_runs_message
from .follow import Follower
from .tail import Tail, TailOptions, follower_for


def run_tail(root: Path, options: TailOptions, force_polling: bool | None = None,
             out: TextIO | None = None, stop: threading.Event | None = None) -> int:
    """Print the root's events; follow unless `--no-follow` (or until `stop` is set).

    Returns the exit code: 1 when `--until-done` saw a followed run fail, else 0.
    """

    out = out if out is not None else sys.stdout
    tail = Tail(options, out)
    if not options.follow:  # what is on disk, streamed: memory bounded by a chunk per segment
        from .tail_replay import replay

        listed, selected, notes = replay(tail, root)
        for note in notes:  # stdout holds the data only; what was skipped is said here, as show says it
            print(note, file=sys.stderr, flush=True)
        if not listed:  # as `ls` says it: a mistyped root printed nothing at all
            print(no_runs_message(root), file=sys.stderr)
        elif not selected:
            print(f"runwatch: none of the {listed} runs under {safe_text(str(root))} is selected by -r/-p "
                  f"(`runwatch ls {safe_text(str(root))}` lists them)", file=sys.stderr)
        return EXIT_OK
    follower = follower_for(root, force_polling)
    if options.follow and not root.exists():
        print(f"runwatch: waiting for {safe_text(str(root))} to be created", file=sys.stderr, flush=True)
    tail.initial(follower.initial())
    if not options.follow or (options.until_done and tail.done()):
        return tail.exit_code() if options.until_done else EXIT_OK
    if root.exists():
        running = sum(1 for state in tail.state.values() if state == "running")
        hint = "; what they logged before: --since 10m or --no-follow" if tail.state and options.since is None else ""
        if options.until_done and not tail.followed:
            hint = ("; waiting for a run to start (runs that already ended: name one with -r "
                    "or use --since)") if tail.state else "; waiting for a run to start"
        print(f"runwatch: following {safe_text(str(root))}: {len(tail.state)} runs, {running} running{hint}",
              file=sys.stderr, flush=True)
    return _follow(follower, tail, options, stop or threading.Event())


def _pump(follower: Follower, tail: Tail, options: TailOptions, stop: threading.Event) -> bool:
    """Print what the follower yields; False when its file watcher failed and it must poll.

    watchfiles fails on a name under the root that is not valid UTF-8 ("Unable to decode
    path"); the reader itself follows such names (os.scandir), so polling still sees it all.
    """
    try:
        for batch in follower.follow(stop):
            with tail.lock:
                tail.live(batch)
                if options.until_done and tail.done():
                    return True
    except Exception as exc:
        if follower.polling or type(exc).__name__ != "WatchfilesRustInternalError":
            raise
        print(f"runwatch: the file watcher stopped ({safe_text(exc)}); polling instead",
              file=sys.stderr, flush=True)
        return False
    return True


def _follow(follower: Follower, tail: Tail, options: TailOptions, stop: threading.Event) -> int:
    finished = threading.Event()
    errors: list[BaseException] = []

    def pump() -> None:
        try:
            while not _pump(follower, tail, options, stop):
                follower.polling = True  # the watcher gave up: poll instead, from a rescan
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)
        finally:
            finished.set()

    thread = threading.Thread(target=pump, name="runwatch-tail", daemon=True)
    thread.start()
    try:
        while not finished.wait(tail.next_wait()) and not stop.is_set():
            with tail.lock:
                tail.flush_due()
    finally:
        stop.set()
    if errors:
        exc = errors[0]
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            # The root went away or became unreadable while followed.
            raise CliError(f"stopped following {safe_text(str(follower.root))}: {exc}") from None
        raise exc
    with tail.lock:
        for path in list(tail._pending):
            tail._flush_run(path)
        tail.emit()
    return tail.exit_code() if options.until_done else EXIT_OK
