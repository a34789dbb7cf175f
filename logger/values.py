"""Turning what scripts log into what msgspec can store, and nested dicts into flat keys.

NumPy and PyTorch values are converted without importing either: a scalar has `.item()`, an
array has `.tolist()`. What still cannot be stored is kept as its `repr`, with one warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_PLAIN = (str, int, float, bool, type(None))
_INT_LIMIT = 2**63
MAX_DEPTH = 64
# One logged value larger than this is refused (with a warning naming its key) and the rest of
# its step kept: a 270 MB string would otherwise stall the flusher and bloat every reader.
MAX_VALUE_BYTES = 16 * 1024 * 1024
MAX_TAG_LENGTH = 256


def safe_str(text: str) -> str:
    """`text` if it encodes as UTF-8, else with the bytes it cannot hold spelled as escapes.

    `os.fsdecode` of a non-UTF-8 name gives lone surrogates ("\\udcff"), which msgspec
    refuses; they become "\\xff", which every reader and terminal can show.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates surrogateescape does not make (U+D800..U+DC7F)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def check_tags(value: Any) -> tuple[str, ...]:
    """The one tag rule (init, `run.tags`, editors, the CLI): a list of strings, each stripped
    of surrounding whitespace, empty ones dropped, duplicates dropped, no NUL, at most 256
    characters."""
    if isinstance(value, str):
        raise TypeError("tags must be a list of strings, not one string: use ['baseline']")
    try:
        tags = list(value) if isinstance(value, Iterable) else None
    except TypeError:
        tags = None
    if tags is None:
        raise TypeError(f"tags must be a list of strings, not {type(value).__name__}")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"each tag must be a str, not {type(tag).__name__}: {tag!r}")
        tag = safe_str(tag.strip())
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"tag {tag[:20]!r}... is {len(tag)} characters; the limit is {MAX_TAG_LENGTH}")
        if "\x00" in tag:
            raise ValueError(f"tag {tag!r} holds a NUL character; remove it")
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)


def convert(value: Any, depth: int = 0) -> Any:
    """A value msgspec can encode, as close to the original as it can be."""
    if isinstance(value, _PLAIN):
        return _plain(value)
    if depth > MAX_DEPTH:
        # Not repr(): that recurses as deep as the value does, and can overflow the stack.
        return f"<{type(value).__name__} nested deeper than {MAX_DEPTH} levels>"
    if isinstance(value, Mapping):
        return {safe_str(str(k)): convert(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [convert(v, depth + 1) for v in value]
    item = getattr(value, "item", None)
    shape = getattr(value, "shape", None)
    if item is not None and (shape is None or shape == () or _numel(value) == 1):
        try:
            return convert(item(), depth + 1)
        except Exception:  # noqa: BLE001 - anything a foreign .item() raises
            pass
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        try:
            return convert(tolist(), depth + 1)
        except Exception:  # noqa: BLE001
            pass
    for cast in (float, int):
        if hasattr(value, f"__{cast.__name__}__"):
            try:
                return cast(value)
            except Exception:  # noqa: BLE001
                pass
    if isinstance(value, (set, frozenset)):
        return [convert(v, depth + 1) for v in sorted(value, key=repr)]
    return repr(value)


def _plain(value: Any) -> Any:
    """A bool, int, float or str (a subclass too: numpy.float64, IntEnum) as the plain type
    msgpack holds: text made safe, an int past 64 bits as a float (or its repr)."""
    if type(value) not in _PLAIN:  # subclasses: numpy.float64, IntEnum, str enums
        base: Any = next(t for t in (bool, int, float, str) if isinstance(value, t))
        value = base(value)
    if type(value) is str:
        return safe_str(value)
    if type(value) is int and not -_INT_LIMIT <= value < 2 * _INT_LIMIT:
        try:
            return float(value)  # msgpack holds 64-bit integers; larger ones as floats
        except OverflowError:
            return repr(value)
    return value

def _numel(value: Any) -> int:
    size = getattr(value, "size", None)
    if isinstance(size, int):
        return size
    numel = getattr(value, "numel", None)
    try:
        return int(numel()) if callable(numel) else -1
    except Exception:  # noqa: BLE001
        return -1


def flatten_into(
    out: dict[str, Any], values: Mapping[str, Any], prefix: str, paths: dict[str, tuple[str, ...]]
) -> None:
    """Flatten nested dicts into "a.b" keys (W&B's history keys): logger.flat's one rule."""
    from .flat import flatten_into as flat_into

    flat_into(out, {prefix + k: v for k, v in values.items()} if prefix else values, paths)


def unflatten(flat: Mapping[str, Any], paths: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """Nest again the keys that were logged as nested dicts; leave literal dotted keys alone."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        path = paths.get(key)
        if path is None:
            out[key] = value
            continue
        node = out
        for part in path[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        node[path[-1]] = value
    return out


def deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: `base` with `update` merged in, nested dicts merged key by key."""
    out = dict(base)
    for key, value in update.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            out[key] = deep_merge(old, value)
        else:
            out[key] = value
    return out
