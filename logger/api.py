"""The Public API, offline: W&B's `wandb.Api()` shape over a local root.

    api = logger.Api()                      # root: argument > $RUNWATCH_DIR > ./runs
    for run in api.runs("cat-classification", filters={"config.lr": {"$lte": 1e-3}}):
        print(run.name, run.state, run.summary.get("loss"))
    df = api.run("cat-classification/abc123").history()
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from .api_wandb import Project, RunCorners, User, artifact_versions, iso_utc, read_run_at
from .api_warnings import warn_overlaps, warn_read, warn_skipped
from .artifacts import Artifact, ArtifactError, list_artifact_names, load_artifact
from .damage import every_skipped
from .edit import edit_name, edit_notes, editable, save_field_edits, set_tags
from .media.readback import MediaReads
from .paths import entity_refusal, resolve_root
from .query import _MISSING, field, matches
from .reader import RootReader
from .rundata import RunData
from .runfiles import File, inside, like_pattern
from .writer import RunwatchWarning

__all__ = ["Api", "Project", "Run", "Runs", "User"]


class Run(MediaReads, RunCorners):  # file(), load_table(), alerts, charts: logger/media/readback.py
    # RunCorners: url, entity, user, heartbeat_at, system_metrics, sweep (logger/api_wandb.py)
    """A run read back: W&B's `Run` attributes, history as columns underneath."""

    def __init__(self, data: RunData, root: Any) -> None:
        self._data = data
        self._root = root
        self.id = data.id
        self.project = data.project
        self.name = data.name
        self.notes = data.notes
        self.tags = list(data.tags)
        self._saved = (self.name, self.notes, tuple(self.tags))
        warn_read(data)  # at the script's line, past ours
        if not data.meta:  # a lazy run reads no rows here (Api.run() checks its writers)
            warn_overlaps(data)

    state = property(lambda self: self._data.state)
    config = property(lambda self: editable(self, "config", lambda: self._data.config))  # update() saves edits
    summary = property(lambda self: editable(self, "summary", lambda: self._data.summary))
    group = property(lambda self: self._data.group)
    job_type = property(lambda self: self._data.job_type)

    @property
    def sweep_id(self) -> str | None:
        """The sweep whose trial this run is: from its start, or (older runs) the sweep's claims."""
        if self._data.sweep_id is not None:
            return str(self._data.sweep_id)
        from pathlib import Path

        from .sweeps.store import sweep_of_run

        found = sweep_of_run(Path(self._root), self.project, self.id)
        return found[0] if found else None

    @property
    def sweep(self) -> Any:
        """The sweep whose trial this run is (W&B's `api.sweep` object), or None."""
        sweep_id = self.sweep_id
        if sweep_id is None:
            return None
        from .sweeps.config import SweepConfigError
        from .sweeps.public import load_sweep

        try:
            return load_sweep(Api(self._root), f"{self.project}/{sweep_id}")
        except (SweepConfigError, OSError):  # its sweep directory is gone: W&B's None
            return None

    exit_code = property(lambda self: self._data.exit_code)
    error = property(lambda self: self._data.error)
    display_name = property(lambda self: self.name)
    # Every damaged frame, as api.run() and tail count them: a run from runs() was read from its
    # snapshots on, and those before them are counted when first asked (logger/damage.py).
    skipped_frames = property(lambda self: every_skipped(self._data))
    dropped_rows = property(lambda self: self._data.dropped_rows)

    @property
    def rewritten_steps(self) -> int:
        """Rows logged at a step already logged (steps went backwards): history keeps the last."""
        return self._data.rewritten  # from the digests in meta mode: no history read

    summary_metrics = property(lambda self: self._data.summary, doc="W&B's other name for summary")

    def used_artifacts(self) -> list[Artifact]:
        """The artifact versions this run used (`run.use_artifact`), in any project of the root."""
        from .artifact_use import used_by_run

        return used_by_run(self._root, self.project, self.id)

    def summary_flat(self) -> dict[str, Any]:
        return self._data.summary_flat()

    @property
    def host(self) -> str | None:
        seg = self._data.first_segment
        return seg.host if seg else None

    @property
    def created_at(self) -> str:
        """ISO 8601 in UTC, as W&B gives it."""
        return iso_utc(self._data.created_at)


    @property
    def lastHistoryStep(self) -> int:  # noqa: N802 - W&B's name
        step = self._data.step
        return -1 if step is None else step

    @property
    def metadata(self) -> dict[str, Any]:
        start, seg = self._data.start, self._data.first_segment
        return {
            "host": seg.host if seg else None, "pid": seg.pid if seg else None,
            "args": start.command[1:] if start else [], "program": start.command[0] if start and start.command else None,
            "python": start.python if start else None, "cwd": start.cwd if start else None,
            "git": {"commit": start.git_commit, "branch": start.git_branch} if start else {},
        }

    # -- history ----------------------------------------------------------------------------
    @property
    def writers(self) -> list[str]:
        """The segments that logged rows (one per process: DDP ranks, resumes), in the order
        history() applies them; pass one as `writer=` to read only its rows."""
        return self._data.writers

    @property
    def overlapping_steps(self) -> int:
        """Steps at which several writers logged the same key (history shows the last's)."""
        return self._data.overlaps

    def scan_history(self, keys: Sequence[str] | None = None, page_size: int = 1000,
                     min_step: int | None = None, max_step: int | None = None,
                     writer: str | None = None) -> Iterator[dict[str, Any]]:
        """Every row, in step order, with `_step`, `_timestamp`, `_runtime` (W&B's scan_history).
        `writer` (a name from `writers`, or a role like "rank 1"): only that writer's rows.
        Read from the segments a chunk at a time (logger/history_read.py): memory stays flat.
        Lazy: nothing is read before the first row is asked for."""
        return self._scan(keys, min_step, max_step, writer).rows()

    def _scan(self, keys: Sequence[str] | None, min_step: int | None = None, max_step: int | None = None,
              writer: str | None = None) -> Any:
        from .history_read import HistoryScan

        return HistoryScan(self._data.dir, list(keys) if keys is not None else None, min_step, max_step,
                           writer, self._data.path, start=self._data.created_at,
                           say=lambda frames: warn_skipped(self._data.path, frames))

    def history(self, samples: int = 500, keys: Sequence[str] | None = None, x_axis: str = "_step",
                pandas: bool = True, stream: str = "default", writer: str | None = None) -> Any:
        """Up to `samples` rows, the first and last always among them and the rest at random
        positions, as W&B's server samples (wandb/wandb#5994: its picks are not evenly spaced),
        but seeded: the same run gives the same rows. A DataFrame by default; without pandas,
        W&B's warning and the list of dicts that `pandas=False` gives."""
        pd = _pandas() if pandas else None
        if stream != "default":  # system metrics: logger/streams.py
            from .streams import system_history

            return system_history(self._data.dir, self._data.created_at, samples, keys, pd is not None, stream)
        from .history_table import BASE, frame, sampled_pages

        wanted = None if keys is None else [*keys, *([x_axis] if x_axis not in ("_step",) else [])]
        shown = tuple(dict.fromkeys(("_step", x_axis, *(keys or ()))))
        scan = self._scan(wanted, writer=writer)
        if pd is not None:  # columns from the decoded values: no row dict is built
            columns = frame(scan, samples, tuple(k for k in shown if k not in BASE) if keys is not None else None)
            if scan.skipped[0]:  # damage passed over: said, as scan_history says it
                warn_skipped(self._data.path, scan.skipped[0])
            return pd.DataFrame({k: columns[k] for k in shown} if keys is not None else columns)
        pages = sampled_pages(scan, samples)
        if scan.skipped[0]:
            warn_skipped(self._data.path, scan.skipped[0])
        if keys is not None:
            pages = [[{k: r[k] for k in shown if k in r} for r in page] for page in pages]
        return [row for page in pages for row in page]

    # -- files and artifacts ----------------------------------------------------------------
    def files(self, names: Sequence[str] | None = None, pattern: str | None = None,
              per_page: int = 50) -> list[File]:
        """What save() stored, as W&B's File objects (`.name`, `.size`, `.download()`).
        `names` picks exact names; `pattern` is W&B's SQL LIKE form ("%.json")."""
        if names and pattern:
            raise ValueError("files(): pass names or pattern, not both")
        files_dir = self._data.dir / "files"
        found: dict[str, tuple[int, str]] = {f.path: (f.size, f.policy) for f in self._data.files}
        if files_dir.is_dir():  # what the script wrote into run.dir itself
            for p in files_dir.rglob("*"):
                name = p.relative_to(files_dir).as_posix()
                if p.is_file() and not p.name.startswith("."):
                    found[name] = (p.stat().st_size, found.get(name, (0, "dir"))[1])
        like = like_pattern(pattern) if pattern else None
        return [File(n, size, files_dir, policy) for n, (size, policy) in sorted(found.items())
                if (not names or n in names) and (like is None or like.fullmatch(n))]

    def file(self, name: str) -> File:
        """One file by name (W&B's run.file); "output.log" is the console when the script
        saved no file of that name (logger/streams.py)."""
        for f in self.files([name]):
            return f
        if inside(self._data.dir / "files", name) is None:
            raise ValueError(f"file name {name!r} leads outside the run's files/ directory")
        if name == "output.log":
            from .streams import ConsoleLog

            return ConsoleLog(self._data.dir)
        raise ValueError(f"run {self._data.path} has no file {name!r}; run.files() lists them")

    def logged_artifacts(self) -> list[Artifact]:
        out = []
        for a in self._data.artifacts:
            try:
                out.append(load_artifact(self._root, self.project, a.name, f"v{a.version}"))
            except ArtifactError as exc:
                warnings.warn(str(exc), RunwatchWarning, stacklevel=2)
        return out

    # -- edits ------------------------------------------------------------------------------
    def update(self) -> None:
        """Save changes to `name`, `notes`, `tags`, `config` and `summary` (as editor segments:
        W&B's run.update())."""
        name, notes, tags = self._saved
        if self.name != name:
            edit_name(self._data.dir, self.id, self.name)
        if self.notes != notes and self.notes is not None:
            edit_notes(self._data.dir, self.id, self.notes)
        if tuple(self.tags) != tags:
            set_tags(self._data.dir, self.id, tags, self.tags)
        save_field_edits(self, self._data.dir, self.id)
        self._saved = (self.name, self.notes, tuple(self.tags))

    def __repr__(self) -> str:
        return f"<Run {'/'.join(self.path)} ({self.state})>"  # W&B's: entity/project/id


class Runs(Sequence[Run]):
    """A list of runs (W&B pages these from a server; here they are all read at once)."""

    def __init__(self, runs: list[Run]) -> None:
        self._runs = runs

    def __getitem__(self, i: Any) -> Any:
        return self._runs[i]

    def __len__(self) -> int:
        return len(self._runs)

    def __repr__(self) -> str:
        return f"<Runs {len(self._runs)}>"


class Api:
    """Read every run under a root: `projects()`, `runs()`, `run()`, `artifact()`. As W&B's,
    it keeps what runs() read: `flush()` forgets it, so the next runs() reads the root again."""

    def __init__(self, root: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None,
                 timeout: int | None = None, api_key: str | None = None) -> None:
        self.root = resolve_root(root)
        if self.root.exists() and not self.root.is_dir():
            raise NotADirectoryError(f"Api root {self.root} is a file, not a run directory")
        self._runs: dict[str, Runs] = {}  # W&B's cache: runs() results by their arguments
        given = overrides or {}  # W&B's settings: what a run path may leave out ("id" alone)
        self.settings = {"entity": given.get("entity") or os.environ.get("WANDB_ENTITY"),
                         "project": given.get("project") or os.environ.get("WANDB_PROJECT")}

    def flush(self) -> None:
        """Forget the runs read so far (W&B's `api.flush()`): the next runs() re-reads the root."""
        self._runs = {}

    def _reader(self) -> RootReader:
        """Every run's metadata, summary, state and tags from snapshots (logger/snapshot.py);
        a run's rows are read when its history is asked for."""
        reader = RootReader(self.root, meta=True)
        reader.scan()
        return reader

    def projects(self, entity: str | None = None) -> list[Project]:
        names = sorted({r.project for r in self._reader().runs.values()})
        owner = self.settings["entity"] or self.default_entity
        return [Project(n, self.root, owner) for n in names]

    def project(self, name: str, entity: str | None = None) -> Project:
        """W&B's `api.project(name)`: a Project whether or not it has runs yet, as W&B's."""
        return Project(name.strip("/").split("/")[-1], self.root, entity or self.default_entity)

    @property
    def default_entity(self) -> str:
        """The entity runs here belong to: the local user, as `run.entity` says."""
        from .compat import local_entity

        return local_entity()

    def runs(self, path: str | None = None, filters: dict[str, Any] | None = None,
             order: str = "+created_at", per_page: int = 50, include_sweeps: bool = True,
             lazy: bool = True) -> Runs:
        """Runs of a project ("project" or "entity/project"), or of every project, oldest
        first (W&B's default order). Lazy whatever `lazy` says: no history is read here."""
        key = f"{path or ''}{filters}{order}"
        if key in self._runs:  # W&B's cache, until flush()
            return self._runs[key]
        # W&B's _parse_project_path: "entity/project" or "project"; another entity's runs are
        # not listed, a run logged without one is anyone's (paths.entity_refusal)
        entity, project = ([""] + path.strip("/ ").split("/", 1))[-2:] if path else ("", None)
        selected = [d for d in self._reader().runs.values() if (project is None or d.project == project)
                    and (not entity or entity_refusal(entity, d.entity, d.path) is None)]
        selected = [d for d in selected if matches(d, filters)]
        runs = self._runs[key] = Runs([Run(d, self.root) for d in _sorted(selected, order)])
        return runs

    def run(self, path: str) -> Run:
        """One run, by the paths W&B takes: "entity/project/id" (as run.path gives it),
        "project/id", "entity/project/runs/id", "project:id" (logger/api_wandb.py)."""
        data = read_run_at(self.root, path, self.settings["project"])  # another entity's: not found
        run = Run(data, self.root)
        warn_overlaps(data)  # rows read only where two writers' steps meet
        return run

    def sweep(self, path: str) -> Any:
        """W&B's `api.sweep("project/sweep_id")`: runs, best_run(), state (logger/sweeps/public.py)."""
        from .sweeps.public import load_sweep

        return load_sweep(self, path)

    def artifact(self, name: str, type: str | None = None) -> Artifact:
        """ "project/name:alias" (alias defaults to latest; "v3" names a version)."""
        parts = name.strip("/").split("/")
        if len(parts) < 2:
            raise ValueError(f"artifact {name!r}: use 'project/name:alias', like 'mnist/model:latest'")
        project, rest = parts[-2], parts[-1]
        art_name, _, alias = rest.partition(":")
        art = load_artifact(self.root, project, art_name, alias or "latest")
        if type is not None and art.type != type:
            raise ArtifactError(f"artifact {name!r} has type {art.type!r}, not {type!r}")
        return art

    def artifacts(self, type_name: str, name: str, order: str | None = None, per_page: int = 50,
                  tags: Any = None) -> list[Artifact]:
        """W&B's `api.artifacts(type_name, "project/name")`: every version, newest first."""
        return artifact_versions(self.root, name, type_name, order, tags)

    def artifact_names(self, project: str) -> list[str]:
        return list_artifact_names(self.root, project)


def _sorted(runs: list[RunData], order: str) -> list[RunData]:
    """W&B's `order`: "+key" ascending, "-key" descending, runs missing the key last either
    way. Numbers sort before strings; anything else by its repr."""
    key, reverse = (order[1:], True) if order.startswith("-") else (order.lstrip("+"), False)
    if key in ("created_at", "createdAt"):
        return sorted(runs, key=lambda d: d.created_at, reverse=reverse)
    present, missing = [], []
    for d in runs:
        value = field(d, key if "." in key or key in _FIELDS else f"summary_metrics.{key}")
        if value is _MISSING or value is None:
            missing.append(d)
        elif isinstance(value, (int, float)):
            present.append(((0, value, ""), d))
        else:
            present.append(((1, 0, value if isinstance(value, str) else repr(value)), d))
    present.sort(key=lambda p: p[0], reverse=reverse)
    return [d for _, d in present] + missing


_FIELDS = ("name", "state", "group", "job_type", "notes", "id", "project", "display_name",
           "displayName", "jobType", "tags")


def _pandas() -> Any:
    """pandas, or None after W&B's warning: its history() then returns the list of dicts."""
    try:
        import pandas  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        from .compat import termwarn

        termwarn("Unable to load pandas, call history with pandas=False")
        return None
    return pandas
