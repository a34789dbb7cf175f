"""Encoding a logged row the slow way: whatever the fast path of `Run.log` could not store as
it was given (NumPy/PyTorch values, nested dicts, text with surrogates, odd objects, a value
too large to store) becomes what every reader can read, with one warning per key at fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from .events import Log
from .values import MAX_VALUE_BYTES, convert, safe_str

_encode = msgspec.msgpack.Encoder().encode
_ENCODE_ERRORS = (TypeError, OverflowError, ValueError, RecursionError)
WarnOnce = Callable[[str, str], None]


def encode_row(step: int, time: float, data: dict[str, Any], warn_once: WarnOnce) -> tuple[bytes, dict[str, Any]]:
    """(the Log event's bytes, the values as stored): keys as str with their text escaped,
    values converted, and any single value over MAX_VALUE_BYTES left out with a warning."""
    values = {}
    for key, value in data.items():
        name = safe_str(key if type(key) is str else str.__str__(key))
        if isinstance(value, (str, bytes)) and len(value) > MAX_VALUE_BYTES:
            _refuse(name, len(value), step, warn_once)
            continue
        converted = convert(value)
        if isinstance(converted, str) and not isinstance(value, str) and converted == repr(value):
            warn_once(f"repr:{name}", (
                f"runwatch: log() value for {name!r} ({type(value).__name__}) is not a number, "
                "string, list or dict; storing its repr()"))
        values[name] = converted
    payload = _encode_values(step, time, values)
    if len(payload) > MAX_VALUE_BYTES:
        for name in list(values):
            size = len(_encode(values[name]))
            if size > MAX_VALUE_BYTES:
                del values[name]
                _refuse(name, size, step, warn_once)
        payload = _encode_values(step, time, values)
    return payload, values


def _encode_values(step: int, time: float, values: dict[str, Any]) -> bytes:
    try:
        return _encode(Log(step, time, values))
    except _ENCODE_ERRORS:
        # Something convert() let through (a float or str subclass msgspec refuses).
        for key, value in values.items():
            try:
                _encode(value)
            except _ENCODE_ERRORS:
                values[key] = safe_str(repr(value))
        return _encode(Log(step, time, values))


def _refuse(key: str, size: int, step: int, warn_once: WarnOnce) -> None:
    warn_once(f"too-large:{key}", (
        f"runwatch: log() value for {key!r} is {size / 2**20:.1f} MiB; one value may be at most "
        f"{MAX_VALUE_BYTES // 2**20} MiB, so it was not stored (the rest of step {step} was). "
        "Save large data as a file or an artifact instead"))
