"""Where runs live, what they are called, and what the script's checkout is at."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

DEFAULT_ROOT = "runs"
DEFAULT_PROJECT = "uncategorized"
_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# Run names' numbers taken (claim_run_number): under the root, where a leading dot keeps
# discovery and the app out of it (logger/discover.py); one empty file per name given.
NAMES_DIR = ".run-names"
_NOT_RUNS = ("artifacts", "sweeps")  # a project's artifact and sweep stores (artifact_store, sweeps)
RESERVED_IDS = frozenset(_NOT_RUNS)  # a run by one of these names would write into a store
_KEY_OK = re.compile(rb"^[0-9a-f]{16}$")  # claims_dir's key, as os.urandom(8).hex() wrote it
_KEY_ATTR = "user.runwatch.names"
_NO_ATTR = getattr(errno, "ENODATA", 61)  # getxattr's "no such attribute" on Linux
_CLAIM_TRIES = 1000  # far past any number of runs starting in the same millisecond

_ADJECTIVES = (
    "brisk amber bold calm clever cosmic crisp dainty dapper eager fancy fearless fluent gentle "
    "glad golden grand happy hardy honest jolly keen lively lucid lunar mellow merry misty noble "
    "polar proud quiet rapid royal rustic serene sharp silent sleek smooth snowy solar spry stellar "
    "sunny swift tidy vivid warm wild wise witty young zesty"
).split()
_NOUNS = (
    "otter falcon maple river comet badger cedar dune ember fern fjord glade harbor heron lake "
    "lark lynx meadow mesa moon moss nebula oak orbit owl panda pine planet prairie puffin quartz "
    "raven reef sea sky snow sparrow spruce star stream sun thunder tiger valley violet wave "
    "willow wind wolf"
).split()


def resolve_root(dir: str | os.PathLike[str] | None = None) -> Path:
    """The run root: the argument, else $RUNWATCH_DIR, else ./runs (resolved now, not at import)."""
    if dir is not None and str(dir) != "":
        return Path(dir).expanduser()
    env = os.environ.get("RUNWATCH_DIR")
    if env:
        return Path(env).expanduser()
    return Path(DEFAULT_ROOT)


def new_run_id() -> str:
    """Eight random lowercase letters and digits: short, URL- and path-safe."""
    raw = int.from_bytes(os.urandom(6), "big")
    out = []
    for _ in range(8):
        raw, i = divmod(raw, 36)
        out.append(_ID_ALPHABET[i])
    return "".join(out)


def human_name(project_dir: Path) -> str:
    """W&B-style "brisk-otter-7": random words, numbered by how many runs the project has."""
    seed = int.from_bytes(os.urandom(4), "big")
    adjective = _ADJECTIVES[seed % len(_ADJECTIVES)]
    noun = _NOUNS[(seed // len(_ADJECTIVES)) % len(_NOUNS)]
    return f"{adjective}-{noun}-{claim_run_number(project_dir)}"


def claim_run_number(project_dir: Path) -> int:
    """The N of a new run's name: the first number from the project's run count on that no
    run has claimed, claimed by creating <claims_dir>/<N> with O_CREAT|O_EXCL.
    Runs started at once (a sweep's agents, `runwatch demo`) all counted the same runs; the
    exclusive create gives each its own N, and a loser just tries the next one: no lock a
    killed holder could leave behind to hang a training start."""
    claims = claims_dir(project_dir)
    start = _run_count(project_dir) + 1
    number, tries = _first_unclaimed(claims, start), 0
    while tries < _CLAIM_TRIES:
        tries += 1
        try:
            os.close(os.open(claims / str(number), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return number
        except FileExistsError:
            number += 1  # another run took it since we looked
        except FileNotFoundError:
            try:  # the project's first claim: make its folder, then try the same number again
                os.makedirs(claims, exist_ok=True)
            except OSError:
                break
        except OSError:  # claims cannot be written here (read-only, odd filesystem)
            break
    return start  # the count alone, as before claims: a name is never worth failing init for


def claims_dir(project_dir: Path) -> Path:
    """Where this project directory's names are claimed: ROOT/.run-names/<project>/<key>, the
    key a random one kept on the project directory (an extended attribute: no file among its
    runs). A project deleted (rm -r) and made again gets a new key, so its runs number from 1
    again, as a re-made W&B project's do; runs deleted from a project leave the key and their
    claims. (Not the directory's inode: ext4 hands a re-made directory the inode just freed.)
    Where no attribute can be kept (not Linux, a filesystem without them), the project's
    claims are ROOT/.run-names/<project> itself, as before keys: they outlive the project."""
    claims = project_dir.parent / NAMES_DIR / project_dir.name
    key = _project_key(project_dir)
    return claims if key is None else claims / key


def _project_key(project_dir: Path) -> str | None:
    if not hasattr(os, "getxattr"):
        return None
    try:
        return _checked_key(os.getxattr(project_dir, _KEY_ATTR))
    except OSError as exc:
        if not isinstance(exc, FileNotFoundError) and exc.errno != _NO_ATTR:
            return None  # attributes unsupported (ENOTSUP) or not readable here
    try:  # the project directory's first claim: set a key unless another start just did
        os.makedirs(project_dir, exist_ok=True)
        os.setxattr(project_dir, _KEY_ATTR, os.urandom(8).hex().encode(), os.XATTR_CREATE)
    except FileExistsError:
        pass  # theirs stands: read it below
    except OSError:
        return None
    try:
        return _checked_key(os.getxattr(project_dir, _KEY_ATTR))
    except OSError:
        return None


def _checked_key(key: bytes) -> str | None:
    return key.decode("ascii") if _KEY_OK.match(key) else None


def _run_count(project_dir: Path) -> int:
    """The project's entries but its artifacts/ and sweeps/ stores: its runs. (Counted bare,
    the stores taken off after: a test or is_dir() per entry cost 0.2-0.5 ms at 10,000 runs.)"""
    try:
        with os.scandir(project_dir) as it:
            entries = sum(1 for _ in it)
    except OSError:
        return 0
    return entries - sum(os.path.lexists(os.path.join(project_dir, name)) for name in _NOT_RUNS)


def _first_unclaimed(claims: Path, start: int) -> int:
    """The first number from `start` on with no claim, found with a few stats (claims are
    taken in order, so those from `start` on run unbroken): doubling past the taken ones,
    then halving back. Runs deleted since their claims cost log2(deleted) stats, not one each."""
    if not os.path.exists(claims / str(start)):
        return start  # the usual case: the runs counted are the runs claimed
    taken, step = start, 1
    while os.path.exists(claims / str(taken + step)) and step < 1 << 40:
        taken, step = taken + step, step * 2
    free = taken + step
    while free - taken > 1:
        middle = (taken + free) // 2
        taken, free = (middle, free) if os.path.exists(claims / str(middle)) else (taken, middle)
    return free


def entity_refusal(asked: str, recorded: str | None, run_path: str) -> str | None:
    """Why `asked` does not name the run at `run_path` ("project/id"), as W&B finds no run
    under another entity; None where it does: the same entity, none asked, or none recorded
    (a run logged without entity= or $WANDB_ENTITY has no owner here: any entity names it)."""
    if not asked or recorded is None or asked == recorded:
        return None
    from .textsafe import safe_text  # only for a refusal

    return safe_text(f"no run {asked}/{run_path}: the run {run_path} was logged with entity "
                     f"{recorded!r}, not {asked!r}; name it {recorded}/{run_path} (or {run_path})")


def check_project(project: object) -> str:
    """A project name that is safe as one directory name, or a ValueError saying why not."""
    if project is None:
        return DEFAULT_PROJECT
    if not isinstance(project, str):
        raise TypeError(f"project must be a str, not {type(project).__name__}")
    name = project.strip()
    problem = _path_component_problem(name)
    if problem:
        raise ValueError(f"invalid project {project!r}: {problem}")
    return name


def check_run_id(run_id: object) -> str:
    if not isinstance(run_id, str):
        raise TypeError(f"id must be a str, not {type(run_id).__name__}")
    if not _ID_OK.match(run_id) or run_id in RESERVED_IDS:
        raise ValueError(
            f"invalid run id {run_id!r}: use 1-64 letters, digits, '-' or '_' "
            f"(and not {', '.join(sorted(RESERVED_IDS))})"
        )
    return run_id


def check_name(kind: str, value: object, limit: int = 256) -> str:
    """A display string (run name, group, job type): any text but control characters."""
    if not isinstance(value, str):
        raise TypeError(f"{kind} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise ValueError(f"invalid {kind} {value[:40]!r}: NUL characters are not allowed")
    if len(value) > limit:
        raise ValueError(f"{kind} is {len(value)} characters long; the limit is {limit}")
    return value


def _path_component_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > 128:
        return f"it is {len(name)} characters long; the limit is 128"
    if "/" in name or "\\" in name:
        return "'/' and '\\' are not allowed (a project is one directory)"
    if "\x00" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "control characters are not allowed"
    if name in (".", "..") or name.startswith("."):
        return "it may not start with '.'"
    return None


def check_component(kind: str, name: object) -> str:
    """An artifact name or similar that becomes one directory name."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a str, not {type(name).__name__}")
    problem = _path_component_problem(name) or (
        "':' is not allowed (it separates the alias)" if ":" in name else None
    )
    if problem:
        raise ValueError(f"invalid {kind} {name!r}: {problem}")
    return name


def git_info(start: Path) -> tuple[str | None, str | None]:
    """(commit, branch) of the checkout holding `start`, read from files: no subprocess."""
    path = start.resolve()
    for _ in range(40):
        dot_git = path / ".git"
        if dot_git.exists():
            break
        if path.parent == path:
            return None, None
        path = path.parent
    else:
        return None, None
    try:
        git_dir = dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            target = dot_git.read_text().strip().removeprefix("gitdir:").strip()
            git_dir = (path / target).resolve()
        head = (git_dir / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head or None, None
        ref = head[4:].strip()
        branch = ref.removeprefix("refs/heads/")
        common = git_dir
        commondir = git_dir / "commondir"
        if commondir.exists():
            common = (git_dir / commondir.read_text().strip()).resolve()
        for base in (git_dir, common):
            ref_file = base / ref
            if ref_file.exists():
                return ref_file.read_text().strip() or None, branch
        packed = common / "packed-refs"
        if packed.exists():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split(" ", 1)[0], branch
        return None, branch
    except (OSError, UnicodeDecodeError):
        return None, None
