"""A sweep on disk: a directory of files that each have one writer and are never rewritten.

    <root>/<project>/sweeps/<sweep-id>/
      sweep.json                  the configuration, written once (logger/atomic.py)
      claims/<trial>.g<gen>.json  who runs a trial: created exclusively, so one claimer wins
      results/<trial>.g<gen>.json how that claim ended (state, exit code, metric), by its claimer
      beats/<agent-id>            grows by a byte every few seconds while the agent lives
      control/<seq>.json          stop / cancel / resume, the highest sequence number wins

No locks and no server: exclusive creation of a name is atomic on local disks and NFS alike.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..host import boot_id, process_alive, process_start_ticks
from ..paths import new_run_id
from .config import SweepConfigError, check_config

SWEEPS_DIR = "sweeps"
ACTIONS = ("stop", "cancel", "resume")


def heartbeat_interval() -> float:
    """Seconds between an agent's heartbeats ($RUNWATCH_SWEEP_HEARTBEAT, default 5)."""
    try:
        return max(0.05, float(os.environ.get("RUNWATCH_SWEEP_HEARTBEAT", "5")))
    except ValueError:
        return 5.0


def create_exclusive(path: Path, data: dict[str, Any]) -> bool:
    """Write `path` whole, only if no one has: False when the name is taken. Hard-linked from a
    temporary (logger/atomic.py), so no reader sees half a claim; fsynced: a trial's claim or
    result lost to a power cut would run the trial again, or lose what it found."""
    body = json.dumps(data, separators=(",", ":")).encode()
    try:
        write_atomic(path, body, fsync=True, replace=False)
    except FileExistsError:
        return False
    return True


def read_json(path: Path) -> dict[str, Any] | None:
    """A record, or None where it is unreadable (being written without links, or damaged)."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def me(agent: str) -> dict[str, Any]:
    """Who holds a claim: enough for any reader to tell whether it still lives."""
    pid = os.getpid()
    return {"agent": agent, "host": socket.gethostname(), "boot_id": boot_id(), "pid": pid,
            "proc_start": process_start_ticks(pid), "time": time.time()}


@dataclass
class Claim:
    trial: str
    gen: int
    data: dict[str, Any]  # params, run_id and the claimer (see me()); {} when unreadable
    path: Path

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.data.get("params") or {})


@dataclass
class Liveness:
    """Judges claimers: same host, by pid and start time; else by their heartbeat file growing,
    as seen with this reader's own clock (never by comparing another host's timestamps)."""

    window: float
    seen: dict[str, tuple[tuple[int, int], float]] = field(default_factory=dict)

    def alive(self, sweep: Sweep, claim: Claim) -> bool:
        d = claim.data
        if d.get("host") == socket.gethostname() and d.get("boot_id") == boot_id():
            verdict = process_alive(int(d.get("pid", 0)), int(d.get("proc_start", 0)))
            if verdict is not None:
                return verdict
        beat = sweep.dir / "beats" / str(d.get("agent", "")) if d else claim.path
        try:  # open, not stat: NFS revalidates a file's attributes on open (close-to-open),
            with open(beat, "rb") as f:  # while a stat may be served from a 60 s cache
                st = os.fstat(f.fileno())
            mark = (st.st_size, st.st_mtime_ns)
        except OSError:
            mark = (-1, -1)
        now = time.monotonic()
        last = self.seen.get(str(beat))
        if last is None or last[0] != mark:
            self.seen[str(beat)] = (mark, now)
            return True
        return now - last[1] < self.window


class Sweep:
    """One sweep directory: its configuration, and the records agents add to it."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        data = read_json(directory / "sweep.json") or {}
        if not all(isinstance(data.get(k), t) for k, t in (("id", str), ("project", str), ("config", dict))):
            raise SweepConfigError(f"{directory} is not a sweep (no readable sweep.json)")
        self.id: str = data["id"]
        self.project: str = data["project"]
        self.config: dict[str, Any] = check_config(data["config"])  # edited by hand, perhaps
        self.root = directory.parent.parent.parent
        self._read: dict[str, dict[str, Any]] = {}  # claims and results never change once made

    @classmethod
    def create(cls, root: Path, project: str, config: dict[str, Any]) -> Sweep:
        sweep_id = new_run_id()
        directory = root / project / SWEEPS_DIR / sweep_id
        for sub in ("claims", "results", "beats", "control"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        doc = {"id": sweep_id, "project": project, "config": config, "created": time.time()}
        # fsynced: agents on other machines read it, and nothing could rebuild it
        write_atomic(directory / "sweep.json", json.dumps(doc, indent=1).encode(), fsync=True)
        return cls(directory)

    # -- claims and results -------------------------------------------------------------------
    def claims(self) -> dict[str, Claim]:
        """The latest generation of every claimed trial."""
        latest: dict[str, Claim] = {}
        for name in _names(self.dir / "claims"):
            trial, _, gen_text = name[: -len(".json")].rpartition(".g")
            if not trial or not gen_text.isdigit():
                continue
            gen = int(gen_text)
            if trial not in latest or latest[trial].gen < gen:
                path = self.dir / "claims" / name
                latest[trial] = Claim(trial, gen, self._cached(path), path)
        return latest

    def _cached(self, path: Path) -> dict[str, Any]:
        """A claim or result, read once: each is written whole, once, by one writer."""
        key = str(path)
        if key not in self._read:
            data = read_json(path)
            if data is None:
                return {}  # written without hard links and not finished yet: read it again later
            self._read[key] = data
        return self._read[key]

    def claim(self, trial: str, gen: int, params: dict[str, Any], agent: str) -> Claim | None:
        """Take generation `gen` of `trial`; None when another agent took it first."""
        data = {"trial": trial, "gen": gen, "params": params, "run_id": new_run_id(), **me(agent)}
        path = self.dir / "claims" / f"{trial}.g{gen}.json"
        return Claim(trial, gen, data, path) if create_exclusive(path, data) else None

    def results(self) -> dict[str, dict[str, Any]]:
        """How each finished claim ended, keyed "<trial>.g<gen>"."""
        out: dict[str, dict[str, Any]] = {}
        for name in _names(self.dir / "results"):
            data = self._cached(self.dir / "results" / name)
            if data:
                out[name[: -len(".json")]] = data
        return out

    def record_result(self, claim: Claim, result: dict[str, Any]) -> None:
        create_exclusive(self.dir / "results" / f"{claim.trial}.g{claim.gen}.json",
                         {"trial": claim.trial, "gen": claim.gen,
                          "run_id": claim.data.get("run_id"), **result})

    # -- control --------------------------------------------------------------------------------
    def control(self, action: str) -> None:
        """Append a stop / cancel / resume record under the next free sequence number."""
        if action not in ACTIONS:
            raise ValueError(f"sweep action {action!r}: use one of {', '.join(ACTIONS)}")
        seq = self._last_control()[0] + 1
        while not create_exclusive(self.dir / "control" / f"{seq:08d}.json",
                                   {"action": action, **me("cli")}):
            seq += 1

    def _last_control(self) -> tuple[int, str]:
        numbered = [(int(n[:-5]), n) for n in _names(self.dir / "control") if n[:-5].isdigit()]
        if not numbered:
            return 0, "resume"
        seq, name = max(numbered)
        data = read_json(self.dir / "control" / name) or {}
        return seq, str(data.get("action", "resume"))

    def state_action(self) -> str:
        """"stop", "cancel" or "resume": the last control record (resume when there is none)."""
        return self._last_control()[1]

    def beat(self, agent: str) -> None:
        """Grow this agent's heartbeat file by one byte: its own file, appended only."""
        with open(self.dir / "beats" / agent, "ab") as f:
            f.write(b".")


def _names(directory: Path) -> list[str]:
    try:
        return sorted(n for n in os.listdir(directory) if n.endswith(".json") and not n.startswith("."))
    except OSError:
        return []


def find_sweep(root: Path, sweep_id: str, project: str | None = None) -> Sweep:
    """A sweep by "id", "project/id" or "entity/project/id", or an error saying what was looked at."""
    parts = [p for p in sweep_id.strip("/").split("/") if p and p != SWEEPS_DIR]
    if not parts:
        raise SweepConfigError("empty sweep id: pass the id `runwatch sweep` printed")
    sid = parts[-1]
    project = parts[-2] if len(parts) >= 2 else project
    candidates = ([root / project / SWEEPS_DIR / sid] if project
                  else sorted(root.glob(f"*/{SWEEPS_DIR}/{sid}")))
    found = [c for c in candidates if (c / "sweep.json").is_file()]
    if not found:
        where = f"project {project!r}" if project else "any project"
        raise SweepConfigError(f"no sweep {sid!r} in {where} under {root}; "
                               "pass the id `runwatch sweep` printed (and --project or the root)")
    if len(found) > 1:
        raise SweepConfigError(f"sweep id {sid!r} is in several projects: write project/{sid}")
    return Sweep(found[0])


def sweep_runs(root: Path, sweep_id: str, project: str | None = None) -> set[tuple[str, str]]:
    """(project, run id) of every run a sweep's claims name: how runs are grouped by sweep."""
    found = find_sweep(root, sweep_id, project)
    return {(found.project, str(c.data.get("run_id"))) for c in _all_claims(found.dir)}


def sweep_of_run(root: Path, project: str, run_id: str) -> tuple[str, str | None] | None:
    """(sweep id, why the sweep stopped the run or None) for the sweep whose claim names this
    run; None when no sweep in the project does (reads the project's claims)."""
    for directory in sorted((root / project / SWEEPS_DIR).glob("*")):
        for claim in _all_claims(directory):
            if claim.data.get("run_id") == run_id:
                result = read_json(directory / "results" / claim.path.name) or {}
                stopped = result.get("reason") if result.get("state") == "stopped" else None
                return directory.name, str(stopped) if stopped else None
    return None


def _all_claims(directory: Path) -> list[Claim]:
    """Every generation's claim, not only the latest: a crashed trial's run belongs too."""
    out = []
    for name in _names(directory / "claims"):
        path = directory / "claims" / name
        out.append(Claim(name, 0, read_json(path) or {}, path))
    return out
