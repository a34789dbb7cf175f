"""File events from Linux inotify (through ctypes): a watch that costs nothing while idle.

watchfiles' loop wakes every `step` ms and takes the GIL to look at signals and its stop
event (~0.14 % of a core idle at 50 ms, 20 wakeups a second); a thread blocked in poll() on
an inotify descriptor sleeps until a file changes, and sees the change at once. One watch per
directory, added as directories appear (what watchfiles' inotify backend does too).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from typing import Any

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED, IN_ONLYDIR, IN_ISDIR = 0x4000, 0x8000, 0x1000000, 0x40000000
MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
        | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
_HEAD = struct.Struct("iIII")  # wd, mask, cookie, len (then the name, NUL-padded)
_libc: Any = None


class Unavailable(OSError):
    """No inotify here (not Linux), or its limits are reached: watch some other way."""


def _lib() -> Any:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        lib = ctypes.CDLL(name or "libc.so.6", use_errno=True)
        if not hasattr(lib, "inotify_init1"):
            raise Unavailable("inotify is not available on this system")
        _libc = lib
    return _libc


class Changes:
    """What one read found: the paths touched, and whether to rescan or stop watching."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.overflow = False  # the kernel dropped events: rescan everything
        self.root_gone = False  # the watched root was deleted or moved away


class Inotify:
    """A recursive watch of `root`. `wait()` blocks in poll() until events or `wake()`."""

    def __init__(self, root: str) -> None:
        try:
            lib = _lib()
        except OSError as exc:
            raise Unavailable(str(exc)) from None
        self._lib = lib
        self.root = os.path.abspath(root)
        fd = lib.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise Unavailable(os.strerror(ctypes.get_errno()))
        self.fd = fd
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._poll.register(self._wake_r, select.POLLIN)
        self.dirs: dict[int, str] = {}  # watch descriptor -> directory
        try:
            self._root_wd = self._add(self.root)
            if self._root_wd is None:
                raise Unavailable(f"{self.root} is not a directory")
            self.add_tree(self.root)
        except BaseException:
            self.close()
            raise

    def _add(self, path: str) -> int | None:
        """Watch one directory; None if it went away meanwhile (or is not one)."""
        wd = self._lib.inotify_add_watch(self.fd, os.fsencode(path), MASK)
        if wd < 0:
            err = ctypes.get_errno()
            if err in (2, 20):  # ENOENT, ENOTDIR
                return None
            raise Unavailable(f"cannot watch {path}: {os.strerror(err)}"
                              + (" (raise fs.inotify.max_user_watches)" if err == 28 else ""))
        self.dirs[wd] = path
        return int(wd)

    def add_tree(self, top: str) -> None:
        """Watch `top`'s subdirectories, however deep (`top` itself is watched already)."""
        stack = [top]
        while stack:
            try:
                with os.scandir(stack.pop()) as entries:
                    subdirs = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
            except OSError:  # gone or unreadable meanwhile
                continue
            for path in subdirs:
                if self._add(path) is not None:
                    stack.append(path)

    def wait(self, timeout: float | None) -> bool:
        """Block until events are there (True), `wake()` or `timeout` seconds (False)."""
        ready = self._poll.poll(None if timeout is None else max(0, int(timeout * 1000) + 1))
        woke = False
        for fd, _ in ready:
            if fd == self._wake_r:
                _drain(self._wake_r)
            else:
                woke = True
        return woke

    def wake(self) -> None:
        """Make a `wait()` in another thread return now (thread-safe; never blocks)."""
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):  # full (a wake is pending already) or closed
            pass

    def read(self) -> Changes:
        """Every event queued: the paths they name (a new directory is watched at once, and
        named itself: the files made in it before its watch are found by reading it)."""
        changes = Changes()
        data = _drain(self.fd)
        pos = 0
        while pos + _HEAD.size <= len(data):
            wd, mask, _cookie, size = _HEAD.unpack_from(data, pos)
            raw = data[pos + _HEAD.size: pos + _HEAD.size + size].rstrip(b"\0")
            pos += _HEAD.size + size
            self._event(changes, wd, mask, os.fsdecode(raw))
        return changes

    def _event(self, changes: Changes, wd: int, mask: int, name: str) -> None:
        if mask & IN_Q_OVERFLOW:
            changes.overflow = True
            return
        directory = self.dirs.get(wd)
        if mask & IN_IGNORED:  # the directory was removed (or unmounted): its watch is gone
            self.dirs.pop(wd, None)
            changes.root_gone |= wd == self._root_wd
            return
        if directory is None:
            return
        if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
            changes.root_gone |= wd == self._root_wd
            return
        path = os.path.join(directory, name) if name else directory
        if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
            if self._add(path) is not None:
                self.add_tree(path)
        changes.paths.add(path)

    def close(self) -> None:
        for fd in (getattr(self, "fd", -1), getattr(self, "_wake_r", -1),
                   getattr(self, "_wake_w", -1)):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.fd = self._wake_r = self._wake_w = -1


def _drain(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
