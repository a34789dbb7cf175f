"""The text syntax's terms (`lr<=1e-3`, `state:running`, a bare word), read one at a time,
and what a filter may compare against (numbers, states, times).

A term that cannot be what was meant (`lr<<x`, `lr < 0.1` typed with spaces, `name~(`,
`created_at<yesterday`) is a FilterError that says what is wrong and what was expected, never
a word that quietly matches nothing. logger/query.py builds filters from these terms.
"""

from __future__ import annotations

import datetime as _dt
import re
import shlex
from typing import Any

__all__ = ["STATES", "TEXT_OPS", "TIME_FIELDS", "FilterError", "as_time", "parse_value", "read_terms"]

MISSING = object()  # a key a run does not have (not None: a value can be None)


class FilterError(ValueError):
    """A filter that cannot be understood; the message names the part at fault."""


TIME_FIELDS = ("created_at",)  # compared as times: ISO 8601 or seconds since the epoch


def as_time(value: Any, key: str) -> Any:
    """A time as seconds since the epoch: a number as it is; an ISO 8601 string (W&B's form,
    "2020-01-01T00:00:00", UTC unless it names a zone) parsed."""
    if value is MISSING or value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            stamp = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise FilterError(f"{key}: {value!r} is not a time; use ISO 8601 like "
                              "'2020-01-01T00:00:00' or seconds since the epoch") from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=_dt.timezone.utc)
        return stamp.timestamp()
    if isinstance(value, _dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)).timestamp()
    return value


_TERM = re.compile(r"^([A-Za-z_][\w./\-]*?)\s*(<=|>=|!=|==|=|<|>|~|:)\s*(.*)$")
TEXT_OPS = {"<=": "$lte", ">=": "$gte", "!=": "$ne", "==": "$eq", "=": "$eq", "<": "$lt",
            ">": "$gt", "~": "$regex", ":": "$eq"}


def parse_value(text: str) -> Any:
    """"1e-3" -> 0.001, "42" -> 42, "true" -> True, "none" -> None, anything else a string."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


STATES = ("running", "finished", "failed", "killed", "crashed")
_ORDER = ("$lt", "$lte", "$gt", "$gte")


def read_terms(text: str) -> list[tuple[str, str | None, str, Any]]:
    """(token, key, operator as typed, value) per term of a text filter; key None for a word.
    A comparison that cannot be what was meant is a FilterError saying what is wrong and what
    was expected, never a word that matches nothing."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        if "quotation" in str(exc):
            raise FilterError(f"{text!r}: a quote is not closed (quote values with spaces "
                              "in pairs: notes:\"first try\")") from None
        raise FilterError(f"cannot read filter {text!r}: {exc}") from None
    out: list[tuple[str, str | None, str, Any]] = []
    for i, token in enumerate(tokens):
        _no_key(token, tokens[i - 1] if i else None, tokens[i + 1] if i + 1 < len(tokens) else None)
        m = _TERM.match(token)
        if m is None:
            out.append((token, None, "", token))
            continue
        key, op, raw = m.groups()
        if raw == "":
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            hint = f"no space after {op!r}: {key}{op}{after}" if after else f"try {key}{op}VALUE"
            raise FilterError(f"{token!r}: no value after {op!r} ({hint})")
        if key in ("tag", "tags"):
            key = "tags"
        elif key in ("sweep", "sweep_id"):  # an id, never a number; "project/id" as printed
            key = "sweep_id"
        out.append((token, key, op, _term_value(token, key, op, raw)))
    return out


_OP_START = re.compile(r"^(<=|>=|!=|==|=|<|>|~|:)")
_TEXT_FIELDS = ("name", "state", "group", "job_type", "project", "id", "notes", "sweep_id", "tags")


def _no_key(token: str, before: str | None, after: str | None) -> None:
    """A term that starts with an operator lost its key: `lr <0.1` or `lr < 0.1` typed with
    spaces, or `<0.1` alone. Said, with the term written the way it parses."""
    m = _OP_START.match(token)
    if m is None:
        return
    op, rest = m.group(1), token[m.end():]
    if before is not None and _TERM.match(before) is None:
        value = rest or after or "VALUE"
        typed = f"{before} {token}" + (f" {after}" if not rest and after else "")
        raise FilterError(f"{typed!r}: no spaces around {op!r} (write {before}{op}{value})")
    raise FilterError(f"{token!r}: no key before {op!r} (write KEY{op}{rest or 'VALUE'}, "
                      f"e.g. lr{op}{rest or '0.5'}; name~TEXT finds text in names)")


def _term_value(token: str, key: str, op: str, raw: str) -> Any:
    """The value of one `key OP raw` term, or a FilterError naming what is wrong with it."""
    mongo_op = TEXT_OPS[op]
    doubled = _OP_START.match(raw) if mongo_op not in ("$regex",) and op != ":" else None
    if doubled is not None:
        rest = raw[doubled.end():]
        meant = {"=<": "<=", "=>": ">=", "<>": "!=", "=!": "!="}.get(op + doubled.group(1))
        number = mongo_op in _ORDER or (meant or "") in ("<=", ">=")
        if number and not isinstance(parse_value(rest), (int, float)):
            rest = "0.5"
        hint = f"did you mean {key}{meant}{rest}?" if meant else f"one operator: {key}{op}{rest}"
        raise FilterError(f"{token!r}: expected {'a number' if mongo_op in _ORDER else 'a value'} "
                          f"after {op!r}, found {raw!r} ({hint})")
    if mongo_op == "$regex":
        try:
            re.compile(raw)
        except re.error as exc:
            raise FilterError(f"{token!r}: {raw!r} is not a regular expression ({exc}); "
                              f"~ takes one (try {key}~{re.escape(raw)} for the text as typed)") from None
        return raw
    value: Any = raw.rsplit("/", 1)[-1] if key == "sweep_id" else parse_value(raw)
    if mongo_op in _ORDER and key in _TEXT_FIELDS:
        raise FilterError(f"{token!r}: {key} is text; {op} compares numbers "
                          f"(try {key}~TEXT to match part of it)")
    if key in TIME_FIELDS and mongo_op != "$regex":
        try:  # "created_at<yesterday" is said now, not a silent no-match on every run
            as_time(value, key)
        except FilterError as exc:
            raise FilterError(f"{token!r}: {exc}") from None
    elif mongo_op in _ORDER and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise FilterError(f"{token!r}: {raw!r} is not a number; {op} compares numbers "
                          f"(try {key}{op}0.5)")
    if key == "state" and mongo_op in ("$eq", "$ne") and value not in STATES:
        raise FilterError(f"{token!r}: no state {raw!r}; a run is one of {' '.join(STATES)}")
    return value

