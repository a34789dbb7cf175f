"""The console relay: a small process that owns the read end of the capture pipe(s), copies
every byte to the terminal, frames a copy for the script to store, and exits at end of file.

A process of its own, so that what the script wrote just before a SIGKILL still reaches the
terminal: the unread bytes in the pipe outlive the script, and nothing here waits for the
script's GIL. `logger.relay_link` starts it as `python -I -S console_relay.py N` (stdlib only)
with its fds set by posix_spawn, and these signals blocked: a Ctrl-C, Ctrl-Z, hang-up or
SIGTERM meant for the script must not kill it before it has copied what the script wrote.
It forks once and the spawned process exits (detach()): the relay is no child of the script,
so the script's os.wait() sees only its own children (init, or a subreaper, reaps the relay).

    0 /dev/null    1, 2 the original stdout and stderr    3 (and 4, when N is 2) the capture
    5 the store pipe (frames to the script)    6 the control pipe (from the script)
    7 where the relay's pid is reported, once (see detach())

Store frames: a 5-byte header (kind, length) and the payload; kind b"0"/b"1" is what capture
3/4 carried, b"A" says every byte written before the sync is in the frames before it (b"E":
and no writer is left, so the relay exits next), b"D" counts bytes not stored. Control: b"S" asks for that sync (and no storing after it); end of
file means the script has gone, and what it has not read is dropped.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.path and sys.path[0] == __file__.rpartition("/")[0]:
    del sys.path[0]  # Python 3.10 puts this directory first: no logger module may shadow stdlib

import collections  # noqa: E402 - after the path is clean
import os  # noqa: E402
import select  # noqa: E402
import struct  # noqa: E402
import time  # noqa: E402

STORE, CONTROL, REPORT = 5, 6, 7
HEADER = struct.Struct(">cI")
BACKLOG = 16 * 1024 * 1024  # store bytes queued before the relay stops reading the captures
STALL = 10.0  # ...and after this long with none of them taken, they are dropped and counted
LINGER = 2.0  # after the captures' end of file, how long queued frames may wait to be taken
POLLIN, POLLOUT = select.POLLIN, select.POLLOUT


class Relay:
    """The copying loop: captures to the terminal at once, and to the store as it takes them."""

    def __init__(self, n: int) -> None:
        self.targets = {3 + i: 1 + i for i in range(n)}  # capture fd -> terminal fd
        self.kinds = {3 + i: str(i).encode() for i in range(n)}
        self.queue: collections.deque[bytes] = collections.deque()
        self.queued = 0
        self.storing = True  # new bytes are framed for the store
        self.sending = True  # the store pipe is still open
        self.reading = True  # the captures are polled (not while the backlog is full)
        self.out_registered = False
        self.last_taken = time.monotonic()
        self.poller = select.poll()
        for fd in (*self.targets, CONTROL):
            self.poller.register(fd, POLLIN)
        os.set_blocking(STORE, False)

    def run(self) -> None:
        deadline = 0.0
        while True:
            if not self.targets:  # every writer has gone; the script may still read the last frames
                deadline = deadline or time.monotonic() + LINGER
                if not (self.queue and self.sending) or time.monotonic() >= deadline:
                    return
            self.regulate()
            for fd, _mask in self.poller.poll(250 if self.queue else None):
                if fd == CONTROL:
                    self.control()
                elif fd == STORE:
                    self.send()
                elif fd in self.targets:
                    self.relay(fd)

    def relay(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: a pty whose every writer has gone
            data = b""
        if not data:
            if self.reading:
                self.poller.unregister(fd)
            del self.targets[fd]
            os.close(fd)
            return
        write_all(self.targets[fd], data)
        if self.storing:
            self.push(HEADER.pack(self.kinds[fd], len(data)) + data)

    def push(self, frame: bytes) -> None:
        self.queue.append(frame)
        self.queued += len(frame)

    def send(self) -> None:
        while self.queue:
            head = self.queue[0]
            try:
                n = os.write(STORE, head)
            except BlockingIOError:
                return
            except OSError:  # EPIPE: nobody reads the store any more
                self.stop_storing()
                return
            self.last_taken = time.monotonic()
            self.queued -= n
            if n == len(head):
                self.queue.popleft()
            else:
                self.queue[0] = head[n:]

    def stop_storing(self) -> None:
        self.storing = self.sending = False
        self.queue.clear()
        self.queued = 0

    def regulate(self) -> None:
        """Poll the store pipe while frames wait; stop reading while the backlog is full (the
        script's writes then wait, as on a slow terminal) unless it has stalled: then drop it."""
        if not self.sending:
            self.queue.clear()
        want_out = bool(self.queue)
        if want_out != self.out_registered:
            if want_out:
                self.poller.register(STORE, POLLOUT)
            else:
                self.poller.unregister(STORE)
            self.out_registered = want_out
        full = self.queued > BACKLOG
        if full and time.monotonic() - self.last_taken > STALL:
            dropped = sum(len(f) for f in self.queue if f[:1] in (b"0", b"1"))
            self.queue.clear()
            self.queued = 0
            self.push(HEADER.pack(b"D", 8) + dropped.to_bytes(8, "big"))
            full = False
        if full == self.reading:
            self.reading = not full
            for fd in self.targets:
                if full:
                    self.poller.unregister(fd)
                else:
                    self.poller.register(fd, POLLIN)

    def control(self) -> None:
        try:
            data = os.read(CONTROL, 64)
        except OSError:
            data = b""
        if not data:  # every copy of the script's end is closed: it has gone
            self.poller.unregister(CONTROL)
            self.stop_storing()
        elif b"S" in data:
            self.sync()

    def sync(self) -> None:
        """Frame what the captures hold now, then the ack; store nothing after it."""
        for fd in list(self.targets):
            for _ in range(64):  # bounded: a child that keeps writing cannot hold this up
                if fd not in self.targets or not select.select([fd], [], [], 0)[0]:
                    break
                self.relay(fd)
        if self.sending:  # b"E": every writer has gone too, so this exits now (wait, and reap it)
            self.push(HEADER.pack(b"E" if self.hung_up() else b"A", 0))
        self.storing = False

    def hung_up(self) -> bool:
        """Whether the captures hold nothing more and have no writer left."""
        poller = select.poll()
        for fd in self.targets:
            poller.register(fd, POLLIN)
        ready = dict(poller.poll(0))
        return all(ready.get(fd, 0) & select.POLLHUP and not ready[fd] & POLLIN
                   for fd in self.targets)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to the terminal; a terminal that has gone loses it (the script goes on)."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:  # a terminal left non-blocking: wait until it takes more
            select.select([], [fd], [], 1.0)
        except OSError:  # EPIPE, EIO: nobody shows it any more
            return


def close_inherited() -> None:
    """Close what the script left inheritable beyond fds 0-6: a socket or a pipe's write end
    held here could keep someone waiting on it."""
    try:
        fds = [int(name) for name in os.listdir("/dev/fd")]
    except (OSError, ValueError):
        fds = list(range(7, 1024))
    for fd in fds:
        if fd > CONTROL:
            try:
                os.close(fd)
            except OSError:
                pass


def detach() -> None:
    """Fork, and let the parent (the script's child) report the relay's pid on fd 7 and exit at
    once: the relay is then no child of the script, whose os.wait() or waitpid(-1) would reap
    it (and return its status for the script's own child's), or block on it for the run."""
    try:
        pid = os.fork()
    except OSError:
        os._exit(1)  # no pid reported: the script copies the console itself
    if pid:
        os.write(REPORT, b"%d\n" % pid)
        os._exit(0)


def main(argv: list[str]) -> None:
    n = int(argv[1])
    detach()
    close_inherited()  # fd 7 too
    Relay(n).run()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
