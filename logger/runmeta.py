"""How a run's labels, config and summary settings derive from the events of all its segments.

Scripts' events (config, summary, define_metric) apply in the order the segments ran (a resume
after what it resumed); labels (name, notes, tags), which editors change too, in the order an
editor saw them (EditSeen) or by time. Every reader arrives at the same result. A mixin of
RunData (logger/rundata.py), which holds the events in `_meta` as it reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import events as ev
from .flat import flatten_into
from .seen import count_events
from .values import deep_merge

LABELS = (ev.SetTags, ev.SetNotes, ev.SetName)


class RunMeta:
    """Derived metadata of RunData: `_meta_state()` and the label properties."""

    _meta: list[tuple[float, str, int, Any]]
    _meta_dirty: bool
    _lazy: list[Any]
    _replay: Callable[[], None]
    _derived: dict[str, Any]
    _edit_seen: dict[str, dict[str, int]]
    _seen_counts: dict[tuple[str, int], int]
    _follows: dict[str, list[str]]
    _seq: dict[str, int]
    _paths: dict[str, tuple[str, ...]]
    segments: dict[str, Any]
    id: str

    def _meta_state(self) -> dict[str, Any]:
        if not self._meta_dirty:
            return self._derived
        if self._lazy:  # the events a cached entry holds (logger/runrestore.py)
            self._replay()
        d: dict[str, Any] = {
            "name": self.id, "notes": None, "tags": (), "group": None, "job_type": None,
            "sweep_id": None, "config": {}, "start": None, "metrics": {}, "summary_set": {}, "summary_removed": {},
        }
        self._apply_script_events(d)
        self._apply_labels(d)
        self._derived = d
        self._meta_dirty = False
        return d

    def _apply_script_events(self, d: dict[str, Any]) -> None:
        """What only scripts write (config, summary, metrics) in the order the segments ran:
        a resume comes after what it resumed, whatever the two machines' clocks said."""
        generation = self._generations()
        for _t, _n, _s, e in sorted(self._meta, key=lambda m: (generation.get(m[1], 0), *m[:3])):
            kind = type(e)
            if kind is ev.RunStart:
                if d["start"] is None or (d["start"].resumed and not e.resumed):
                    d["start"] = e
                d.update(group=e.group, job_type=e.job_type)
                d["sweep_id"] = e.sweep_id or d["sweep_id"]  # a resume started by hand keeps it
                d["config"] = deep_merge(d["config"], e.config)
            elif kind is ev.ConfigUpdate:
                d["config"] = deep_merge(d["config"], e.values)
            elif kind is ev.SummaryUpdate:
                flat: dict[str, Any] = {}
                flatten_into(flat, e.values, self._paths)
                for key, value in flat.items():
                    d["summary_set"][key] = (e.time, value)
                for key in e.removed:
                    d["summary_removed"][key] = e.time
            elif kind is ev.DefineMetric:
                d["metrics"][e.name] = e

    def _apply_labels(self, d: dict[str, Any]) -> None:
        """Name, notes and tags, which editors change too (see _label_order).
        A resumed RunStart restates what it read at init; it names the run only where the
        original start is missing, so an edit made meanwhile is not undone."""
        originals = [m for m in self._meta if type(m[3]) is ev.RunStart and not m[3].resumed]
        tags: list[str] = []
        for e in self._label_order():
            kind = type(e)
            if kind is ev.RunStart:
                if not e.resumed or not originals:
                    d.update(name=e.name, notes=e.notes)
                    tags = list(e.tags)
            elif kind is ev.SetTags:
                if e.tags is not None:
                    tags = list(e.tags)
                tags = [t for t in tags if t not in e.remove]
                tags += [t for t in e.add if t not in tags]
            elif kind is ev.SetNotes:
                d["notes"] = e.notes
            elif kind is ev.SetName:
                d["name"] = e.name
        d["tags"] = tuple(tags)

    def _label_order(self) -> list[Any]:
        """Label events in the order they apply. Scripts' by (time, segment, position), each
        segment's in its own order. An editor that recorded what it saw (EditSeen) comes
        right after the last event it saw, whatever its clock says: a laptop whose clock is
        behind still edits the run it read. Older editors' edits go by their time."""
        seen_by = self._edit_seen
        timed = sorted((m for m in self._meta if m[1] not in seen_by), key=lambda m: m[:3])
        keyed: list[tuple[tuple[Any, ...], Any]] = [((i, 0), m[3]) for i, m in enumerate(timed)]
        for m in self._meta:
            seen = seen_by.get(m[1])
            if seen is None or type(m[3]) not in LABELS:
                continue
            counts = {name: self._events_within(name, size) for name, size in seen.items()}
            after = max((i for i, t in enumerate(timed) if t[2] <= counts.get(t[1], 0)), default=-1)
            keyed.append(((after, 1, sum(seen.values()), *m[:3]), m[3]))
        keyed.sort(key=lambda k: k[0])
        return [e for _, e in keyed]

    def _events_within(self, name: str, size: int) -> int:
        """How many events of segment `name` lie in its first `size` bytes."""
        seg = self.segments.get(name)
        if seg is None:
            return 0
        if size >= seg.offset:
            return self._seq.get(name, 0)  # all this reader has read of it so far
        key = (name, size)
        if key not in self._seen_counts:  # bytes before `size` never change: count them once
            self._seen_counts[key] = count_events(seg.path, size)
        return self._seen_counts[key]

    def _generations(self) -> dict[str, int]:
        """0 for a segment that resumed nothing; 1 + the latest it resumed otherwise."""
        out: dict[str, int] = {}

        def gen(name: str, depth: int = 0) -> int:
            if name not in out:
                before = self._follows.get(name, ())
                out[name] = 0 if depth > 64 or not before else 1 + max(
                    (gen(b, depth + 1) for b in before if b != name), default=-1)
            return out[name]

        for name in self._follows:
            gen(name)
        return out

    name = property(lambda self: self._meta_state()["name"])
    notes = property(lambda self: self._meta_state()["notes"])
    tags = property(lambda self: self._meta_state()["tags"])
    group = property(lambda self: self._meta_state()["group"])
    job_type = property(lambda self: self._meta_state()["job_type"])
    sweep_id = property(lambda self: self._meta_state()["sweep_id"])  # None before RunStart had it
    # The entity its first start was given (a resume restates it), or None; read off the
    # RunStart, which the index cache's Listing keeps already.
    entity = property(lambda self: getattr(self._meta_state()["start"], "entity", None))
    config = property(lambda self: self._meta_state()["config"])
    metrics = property(lambda self: self._meta_state()["metrics"])
