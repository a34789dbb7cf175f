"""A run's rows as a reader holds them: each writer's History (full mode) or digest (no rows
kept: a listing, tail, the app), and the one history, digest and counts made of them in the
merged history's order (logger/multiwriter.py). A mixin of RunData (logger/rundata.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import step_runs
from .digest import Digest, combine
from .history import History
from .multiwriter import merge
from .summaries import aggregation

__all__ = ["RunHistory"]


class RunHistory:
    """`history`, `writer_history()`, `digest()` and the row counts of RunData."""

    meta: bool
    _keep: bool
    _histories: dict[str, History]
    _digests: dict[str, Digest]
    _merged: tuple[Any, History] | None
    _paths: dict[str, tuple[str, ...]]
    _lazy: list[Any]
    _replay: Callable[[], None]
    _generations: Callable[[], dict[str, int]]  # RunMeta's: the resume order of segments
    _meta_state: Callable[[], dict[str, Any]]
    full: Callable[[], Any]  # RunData with its rows (meta mode reads them)
    segments: dict[str, Any]
    version: int
    path: str
    dir: Any  # the run's directory (RunData's)

    @property
    def history(self) -> History:
        """Every writer's rows as one history. With several writers (DDP ranks sharing an id,
        a resume while the original runs) rows are ordered by (resume generation, segment
        name, position in the segment), so where two logged a key at one step every reader
        shows the same value: the later writer's. `writer_history()` has each one's own."""
        if not self._keep:  # a follower that must stay flat (tail, the app): never every row
            return self._last_values()
        if self.meta:
            return self.full().history
        histories = self._writer_histories()
        if len(histories) == 1:
            return histories[0][1]
        key = (self.version, tuple(name for name, _ in histories))
        if self._merged is None or self._merged[0] != key:
            self._merged = (key, merge([h for _, h in histories], self._paths, self._keep))
        return self._merged[1]

    def _last_values(self) -> History:
        """No rows kept: a history of one row, every key's last value (a follower that
        prints, like tail, asks no more of it), made from the digests."""
        key = (self.version, -1)
        if self._merged is None or self._merged[0] != key:
            digest, history = self.digest(), History(self._paths)
            if digest.rows:
                history.add(digest.max_step or 0, digest.last_time or 0.0,
                            {k: s.last for k, s in digest.keys.items()})
            history.rewritten = digest.rewritten
            self._merged = (key, history)
        return self._merged[1]

    def _writer_histories(self) -> list[tuple[str, History]]:
        generation = self._generations()
        names = sorted(self._histories, key=lambda n: (generation.get(n, 0), n))
        return [(n, self._histories[n]) for n in names if len(self._histories[n])]

    @property
    def writers(self) -> list[str]:
        """The segments that logged rows, in the order the merged history applies them."""
        if self.meta:  # the first pass of a scan: no row kept (a 1M-step run read whole took a GB)
            from .history_order import read_writers

            return [w.path.name for w in read_writers(self.dir)]
        return [name for name, _ in self._writer_histories()]

    @property
    def overlaps(self) -> int:
        """Steps at which several writers logged the same key (history shows the last's); in
        meta mode the rows are read only where two writers' steps meet."""
        if self.meta:
            from .history_order import apart, read_writers

            if sum(1 for d in self._digests.values() if d.rows) < 2 or apart(read_writers(self.dir)):
                return 0
        return self.history.overlaps

    def writer_history(self, writer: str) -> History:
        """One writer's own rows: its segment's name, or its role ("rank 1") if unique."""
        if self.meta:
            return self.full().writer_history(writer)
        if writer in self._histories:
            return self._histories[writer]
        named = [n for n in self._histories
                 if (seg := self.segments.get(n)) is not None and seg.role == writer]
        if len(named) != 1:
            known = ", ".join(self.writers) or "none"
            raise KeyError(f"run {self.path}: no single writer {writer!r} (writers: {known})")
        return self._histories[named[0]]

    def digest(self) -> Digest:
        """Every writer's digest, combined in the merged history's order."""
        if self._lazy:
            self._replay()
        generation = self._generations()
        if self.meta or not self._keep:  # no rows kept: digests were kept as rows came
            names = sorted(self._digests, key=lambda n: (generation.get(n, 0), n))
            return combine([self._digests[n] for n in names if self._digests[n].rows])
        return self._history_digest()

    def _history_digest(self) -> Digest:
        """The digest of the rows this reader holds (full mode; a follower's last values)."""
        metrics = self._meta_state()["metrics"]
        return combine([Digest.of_history(h, lambda k: aggregation(metrics, k) not in (None, "none"))
                        for _, h in self._writer_histories()])

    @property
    def rows(self) -> int:
        """Rows logged, every writer's (a listing's count: no history read)."""
        if self.meta or not self._keep:
            return sum(d.rows for d in self._digests.values())
        return sum(len(h) for h in self._histories.values())

    @property
    def rewritten(self) -> int:
        """Rows whose step was not past every earlier row's, in the merged history's order (a
        later writer's at or below an earlier one's steps too): from the digests where they
        tell (logger/step_runs.py), else from the rows (a follower keeping none: its own)."""
        if self.meta or not self._keep:
            generation = self._generations()
            names = sorted(self._digests, key=lambda n: (generation.get(n, 0), n))
            count = step_runs.rewritten([self._digests[n] for n in names if self._digests[n].rows])
            if count is not None or not self.meta:
                return count if count is not None else sum(d.rewritten for d in self._digests.values())
            return self.full().history.rewritten
        return self.history.rewritten

    def numeric_keys(self) -> list[str]:
        """History keys holding numbers, first logged first (no history read without rows)."""
        if self.meta or not self._keep:
            return [k for k, s in self.digest().keys.items() if s.numeric and not k.startswith("_")]
        return self.history.numeric_keys()

    @property
    def step(self) -> int | None:
        if self.meta or not self._keep:
            steps = [d.max_step for d in self._digests.values() if d.max_step is not None]
            return max(steps) if steps else None
        steps = [h.max_step for h in self._histories.values() if h.max_step is not None]
        return max(steps) if steps else None

    @property
    def dropped_rows(self) -> int:
        """Rows left out for a step outside 64 bits (no writer of ours logs one): counted, and
        reported where damaged frames are, from the digests where no rows are kept."""
        held = self._digests.values() if self.meta or not self._keep else self._histories.values()
        return sum(h.dropped for h in held)
