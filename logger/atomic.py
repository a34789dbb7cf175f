"""One atomic file write: a temporary beside the target, filled, then renamed over it (or
hard-linked where the target must not exist yet). Readers see the old file or the new one,
never half of one; a write that fails leaves nothing behind.

A temporary is named `.<name>.<pid>-<owner>.<tid>.tmp`, `owner` naming the machine, boot
and PID namespace it was written from. A writer killed mid-write leaves one: the next write
into that directory removes it once its pid is gone (on this machine), or once it has been
untouched for FOREIGN_AGE (written from elsewhere: a shared NFS root, a container).

`fsync=True` makes the new content and its name durable before returning (the data, then the
directory): for what cannot be rebuilt (artifacts, sweeps, editors' segments). Caches and
copies leave it off: a lost one is rebuilt, and a disk flush costs milliseconds.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from .host import boot_id, pid_namespace, process_alive

FOREIGN_AGE = 86400.0  # seconds untouched before another machine's temporary counts as dead
RESCAN_S = 60.0  # a directory's listing is trusted this long while no one else changes it
_MEMO = 256  # directories whose listing is remembered (media and artifact stores have many)
_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)(?:-(?P<owner>[0-9a-f]{8}))?\.\d+\.tmp")

_NO_SENDFILE = (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV)
_NEW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)  # no symlink; no exec inherits it
_ANY = ""  # no file's name: the key of temporaries any write may remove
_lock = threading.Lock()


class _Listed:
    """One directory's dead temporaries, by the name they were writing, as last listed."""

    __slots__ = ("at", "mtime_ns", "dead")

    def __init__(self, at: float, mtime_ns: int, dead: dict[str, list[str]]) -> None:
        self.at, self.mtime_ns, self.dead = at, mtime_ns, dead


_dead: OrderedDict[str, _Listed] = OrderedDict()


def write_atomic(path: Path, data: bytes | Iterable[bytes], *, fsync: bool = False,
                 mode: int = 0o666, dir_mode: int = 0o777, replace: bool = True) -> None:
    """Write `data` (bytes, or parts of it) to `path` atomically. `mode` and `dir_mode` are
    for a new file and missing parent directories (less the umask). With replace=False an
    existing `path` is left alone and FileExistsError raised. Raises OSError."""
    parts = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data

    def fill(f: BinaryIO) -> None:
        for part in parts:
            f.write(part)

    _publish(Path(path), fill, fsync=fsync, mode=mode, dir_mode=dir_mode, replace=replace)


def copy_atomic(src: Path, path: Path, *, fsync: bool = False, mode: int = 0o666) -> None:
    """Copy the file `src` to `path` atomically (in the kernel where it can: checkpoints are
    GBs). Raises OSError."""
    def fill(f: BinaryIO) -> None:
        with open(src, "rb") as fin:
            _copy_fd(fin, f)

    _publish(Path(path), fill, fsync=fsync, mode=mode, dir_mode=0o777, replace=True)


def _copy_fd(fin: BinaryIO, fout: BinaryIO) -> None:
    """sendfile(2) from `fin` to `fout`; a read/write loop where the system refuses it."""
    sent, src, dst = 0, fin.fileno(), fout.fileno()
    try:
        while n := os.sendfile(dst, src, sent, 1 << 30):
            sent += n
        return
    except (OSError, AttributeError) as exc:
        if sent or getattr(exc, "errno", errno.EINVAL) not in _NO_SENDFILE:
            raise
    while chunk := fin.read(1 << 20):
        fout.write(chunk)


def create_appending(path: Path, head: bytes, mode: int = 0o666) -> int:
    """A new file `path` that appears with `head` already in it (a reader never meets it
    empty); an fd open for appending to it, which the caller closes. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    drop_dead_temps(path)
    tmp = temp_name(path)
    fd = _create(tmp, mode, os.O_APPEND)
    try:
        view = memoryview(head)
        while view:
            view = view[os.write(fd, view):]
        os.rename(tmp, path)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _wrote_in(path.parent)
    return fd


def temp_name(path: Path) -> Path:
    """The temporary this thread writes `path` through."""
    return path.with_name(f".{path.name}.{os.getpid()}-{owner()}.{threading.get_ident()}.tmp")


def _publish(path: Path, fill: Callable[[BinaryIO], None], *, fsync: bool, mode: int,
             dir_mode: int, replace: bool) -> None:
    _make_dirs(path.parent, dir_mode)
    drop_dead_temps(path)
    tmp = temp_name(path)
    try:
        with _open_temp(tmp, mode) as f:
            fill(f)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path, fsync=fsync, mode=mode)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # after a rename: gone already, no harm
    if fsync:
        _fsync_dir(path.parent)
    _wrote_in(path.parent)


def _make_dirs(directory: Path, mode: int) -> None:
    """`directory` and its missing parents, each made with `mode`: the XDG rule for a cache or
    state directory is 0700, where mkdir -p would make the parents 0755."""
    missing = []
    while not directory.is_dir() and directory.parent != directory:
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(mode, exist_ok=True)


def _link_new(tmp: Path, path: Path, *, fsync: bool, mode: int) -> None:
    """Give `tmp`'s content the name `path` only where no one has: FileExistsError if taken.
    NFS may answer a link that succeeded with an error (a retried RPC): the link count says
    the truth (open(2)'s advice for lock files). Where there are no hard links (some FUSE and
    SMB mounts): O_CREAT | O_EXCL and a copy, which a reader may see half-written."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        if _linked(tmp):
            return
        raise
    except OSError:
        if _linked(tmp):
            return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NEW, mode)
    with open(fd, "wb") as fout, open(tmp, "rb") as fin:
        _copy_fd(fin, fout)
        if fsync:
            os.fsync(fout.fileno())


def _linked(tmp: Path) -> bool:
    try:
        return os.stat(tmp).st_nlink == 2
    except OSError:
        return False


def _create(tmp: Path, mode: int, extra: int = 0) -> int:
    """A new temporary, never through a symlink: its fd. One already there under this pid and
    thread is a dead process's (its pid reused): it is replaced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NEW | extra
    try:
        return os.open(tmp, flags, mode)
    except FileExistsError:
        os.unlink(tmp)
        return os.open(tmp, flags, mode)


def _open_temp(tmp: Path, mode: int) -> BinaryIO:
    """_create's file, opened by open() (audit hooks see a write open of `tmp`)."""
    return open(tmp, "wb", opener=lambda name, flags: _create(Path(name), mode, flags & os.O_TRUNC))


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: fsync the directory that holds it (where the system allows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse a directory fsync; the data itself is synced
    finally:
        os.close(fd)


def drop_dead_temps(path: Path) -> None:
    """Remove the temporaries of `path` that a writer now gone left behind. A directory is
    listed again only when something else changed it since this process's last write there,
    or RESCAN_S on (a media directory holds thousands of files, written one by one)."""
    directory, now = os.fspath(path.parent), time.monotonic()
    try:
        changed = os.stat(directory).st_mtime_ns
    except OSError:
        return
    with _lock:
        seen = _dead.get(directory)
        if seen is None or seen.mtime_ns != changed or now - seen.at > RESCAN_S:
            seen = _Listed(now, changed, _list_dead(directory))
            _dead[directory] = seen
        _dead.move_to_end(directory)
        while len(_dead) > _MEMO:
            _dead.popitem(last=False)
        names = seen.dead.pop(path.name, []) + seen.dead.pop(_ANY, [])
    for name in names:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))


def _wrote_in(directory: Path) -> None:
    """After this process's own write: its change to the directory needs no new listing."""
    key = os.fspath(directory)
    with _lock:
        seen = _dead.get(key)
        if seen is not None:
            with contextlib.suppress(OSError):
                seen.mtime_ns = os.stat(key).st_mtime_ns


def _list_dead(directory: str) -> dict[str, list[str]]:
    """The dead writers' temporaries in `directory`, by the name they were writing; those named
    with an owner (unmistakably this module's) under _ANY: any write in the directory removes
    them (segments and content-named files are never written twice under one name). Those of
    an older version, with no owner, only by a write of their name (they might not be ours)."""
    found: dict[str, list[str]] = {}
    try:
        with os.scandir(directory) as it:
            names = [e.name for e in it if e.name[:1] == "." and e.name.endswith(".tmp")]
    except OSError:
        return found
    for name in names:
        match = _TEMP.fullmatch(name)
        if match and _writer_gone(directory, name, int(match["pid"]), match["owner"]):
            found.setdefault(_ANY if match["owner"] else match["name"], []).append(name)
    return found


def _writer_gone(directory: str, name: str, pid: int, who: str | None) -> bool:
    if who is None or who == owner():  # no owner: written by an older version, on this machine
        return process_alive(pid, 0) is False
    try:
        return time.time() - os.lstat(os.path.join(directory, name)).st_mtime > FOREIGN_AGE
    except OSError:
        return False


def owner() -> str:
    """Names where this process's pids mean something: machine, boot and PID namespace."""
    global _owner
    if _owner is None:
        key = f"{socket.gethostname()} {boot_id()} {pid_namespace()}"
        _owner = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return _owner


_owner: str | None = None
