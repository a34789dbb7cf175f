"""Selecting runs: W&B's MongoDB-style filters, and the short text syntax of the TUI and CLI.

    matches(run, {"$and": [{"config.lr": {"$lte": 1e-3}}, {"state": "running"}]})
    parse_filter("lr<=1e-3 state:running tag:baseline resnet")   # the same, as a dict

Both work on any object with the reader's run attributes (`RunData`, the Api's `Run`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .flat import flatten
from .query_terms import MISSING, TEXT_OPS, TIME_FIELDS, FilterError, as_time, read_terms

__all__ = ["FilterError", "check_keys", "compile_filter", "field", "matches", "parse_filter",
           "shown_summary", "summary_value"]

_MISSING = MISSING


# -- field access ---------------------------------------------------------------------------
_ALIASES = {
    "display_name": "name", "displayName": "name", "createdAt": "created_at",
    "jobType": "job_type", "summary_metrics": "summary", "tag": "tags",
    "sweep": "sweep_id",
}


def field(run: Any, key: str) -> Any:
    """The value a filter key names on a run, or _MISSING."""
    head, _, rest = key.partition(".")
    head = _ALIASES.get(head, head)
    if head == "config":
        for dotted in (rest[: -len(".value")], rest) if rest.endswith(".value") else (rest,):
            # W&B's server-side form first (config.lr.value), then the key as written
            value = _lookup(run.config, dotted)
            if value is _MISSING and dotted:
                value = flatten(run.config).get(dotted, _MISSING)  # logger.flat's keys
            if value is not _MISSING:
                return value
        return _MISSING
    if head == "summary":
        flat = run.summary_flat() if hasattr(run, "summary_flat") else None
        if flat is not None:
            value = _summary_value(flat, rest)
            if value is not _MISSING:
                return value
        return _lookup(run.summary, rest)
    if rest:
        return _MISSING
    if head in ("name", "state", "group", "job_type", "notes", "id", "project", "created_at",
                "sweep_id"):
        return getattr(run, head, _MISSING)
    if head == "tags":
        return list(run.tags)
    return _MISSING


def summary_value(flat: dict[str, Any], key: str) -> Any:
    """The value a summary key names, as the table shows it (None when absent): `val/loss` is
    its define_metric aggregate (the first part of {"min": 0.4, "max": 0.9}: 0.4), and
    `val/loss.min` one part of it, the name `shown_summary` gives it."""
    value = _summary_value(flat, key)
    return None if value is _MISSING else value


def shown_summary(flat: dict[str, Any]) -> dict[str, Any]:
    """A flat summary under the names every screen uses: logger.flat's rule, so the aggregate
    {"min": 0.4} of val/loss reads as key `val/loss.min` (media JSON stays one value)."""
    return flatten(flat)


def _summary_value(flat: dict[str, Any], key: str) -> Any:
    if key in flat:
        value = flat[key]
        if type(value) is dict and value and "_type" not in value:
            return next(iter(value.values()))  # define_metric(summary="min,max") and friends
        return value
    head, dot, part = key.rpartition(".")
    if dot and type(flat.get(head)) is dict and part in flat[head]:
        return flat[head][part]
    return _MISSING


def _lookup(d: Any, dotted: str) -> Any:
    if not dotted:
        return d
    if isinstance(d, dict) and dotted in d:
        return d[dotted]
    node = d
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


# -- MongoDB-style evaluation ---------------------------------------------------------------
def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def test(value: Any, arg: Any) -> bool:
        if value is _MISSING or value is None:
            return False
        try:
            return bool(op(value, arg))
        except TypeError:
            return False

    return test


def _eq(value: Any, arg: Any) -> bool:
    if isinstance(value, list) and not isinstance(arg, list):
        return arg in value  # Mongo: an array field matches if it contains the value
    return value is not _MISSING and value == arg


def _in(value: Any, arg: Any) -> bool:
    if not isinstance(arg, (list, tuple)):
        raise FilterError(f"$in and $nin take a list, not {arg!r}")
    if isinstance(value, list):
        return any(v in arg for v in value)
    return value is not _MISSING and value in arg


def _regex(value: Any, arg: Any) -> bool:
    if value is _MISSING or value is None:
        return False
    try:
        pattern = re.compile(arg)
    except (re.error, TypeError) as exc:
        raise FilterError(f"$regex {arg!r} is not a valid regular expression: {exc}") from exc
    if isinstance(value, list):
        return any(pattern.search(str(v)) for v in value)
    return pattern.search(str(value)) is not None


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": _eq,
    "$ne": lambda v, a: not _eq(v, a),
    "$gt": _cmp(lambda v, a: v > a),
    "$gte": _cmp(lambda v, a: v >= a),
    "$lt": _cmp(lambda v, a: v < a),
    "$lte": _cmp(lambda v, a: v <= a),
    "$in": _in,
    "$nin": lambda v, a: not _in(v, a),
    "$exists": lambda v, a: (v is not _MISSING) == bool(a),
    "$regex": _regex,
}


def matches(run: Any, filters: dict[str, Any] | None) -> bool:
    """Whether `run` passes a MongoDB-style filter, as W&B's `Api.runs(filters=...)` takes."""
    if not filters:
        return True
    if not isinstance(filters, dict):
        raise FilterError(f"filters must be a dict like {{'state': 'finished'}}, not {type(filters).__name__}")
    for key, cond in filters.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(cond, list):
                raise FilterError(f"{key} takes a list of filters, not {cond!r}")
            results = (matches(run, c) for c in cond)
            ok = all(results) if key == "$and" else any(results)
            if (key == "$nor") == ok:
                return False
            continue
        if key == "$not":
            if matches(run, cond):
                return False
            continue
        if key.startswith("$"):
            raise FilterError(f"unknown operator {key!r}; use one of $and $or $nor $not")
        value = field(run, key)
        if _ALIASES.get(key, key) in TIME_FIELDS:
            value, cond = as_time(value, key), _times_in(cond, key)
        if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            for op, arg in cond.items():
                test = _OPS.get(op)
                if test is None:
                    raise FilterError(f"unknown operator {op!r} on {key!r}; use one of {' '.join(_OPS)}")
                if not test(value, arg):
                    return False
        elif not _eq(value, cond):
            return False
    return True


def _times_in(cond: Any, key: str) -> Any:
    """A condition on a time field with every operand as seconds since the epoch."""
    if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
        return {op: ([as_time(a, key) for a in arg] if isinstance(arg, (list, tuple)) else
                     arg if op in ("$exists", "$regex") else as_time(arg, key))
                for op, arg in cond.items()}
    return as_time(cond, key)


# -- the text syntax ------------------------------------------------------------------------
_PLAIN_FIELDS = ("state", "name", "group", "job_type", "project", "id", "notes", "sweep_id",
                 "created_at")




def parse_filter(text: str, config_keys: set[str] | None = None) -> dict[str, Any]:
    """Turn `lr<=1e-3 state:running tag:baseline word` into a MongoDB-style filter.

    A bare key means a config key when a run has it in its config (`config_keys`), else a
    summary key; `config.x` and `summary.x` say which. Bare words match the name, tags and
    notes (case-insensitive substring). Quote values with spaces: `notes:"first try"`.
    A state no run can have, or `<`/`>` against something that is not a number, is an error.
    """
    terms: list[dict[str, Any]] = []
    for token, key, text_op, value in read_terms(text):
        op = TEXT_OPS.get(text_op, "")
        if key is None:
            pattern = re.escape(token)
            terms.append({"$or": [{"name": {"$regex": f"(?i){pattern}"}},
                                  {"tags": {"$regex": f"(?i){pattern}"}},
                                  {"notes": {"$regex": f"(?i){pattern}"}}]})
            continue
        if key not in _PLAIN_FIELDS and key != "tags" and not key.startswith(("config.", "summary.")):
            key = f"config.{key}" if config_keys is None or key in config_keys else f"summary.{key}"
        if text_op == ":" and isinstance(value, str) and key in ("name", "notes", "group"):
            terms.append({key: {"$regex": f"(?i){re.escape(value)}"}})
        else:
            terms.append({key: {op: value}})
    if not terms:
        return {}
    return terms[0] if len(terms) == 1 else {"$and": terms}


def check_keys(text: str, runs: Any) -> None:
    """Raise FilterError naming a filter key that none of `runs` has in its config or summary
    (a typo would otherwise show an empty table). An empty set of runs checks nothing."""
    runs = list(runs)
    if not runs:
        return
    for token, key, _op, _value in read_terms(text):
        if key is None or key in _PLAIN_FIELDS or key == "tags":
            continue
        if not any(_has_key(run, key) for run in runs):
            bare = key.partition(".")[2] if key.startswith(("config.", "summary.")) else key
            raise FilterError(f"{token!r}: no run has {bare!r} in its config or summary "
                              "(check the spelling; `runwatch show RUN` lists a run's keys)")


def _has_key(run: Any, key: str) -> bool:
    if key.startswith(("config.", "summary.")):
        return field(run, key) is not _MISSING
    return field(run, f"config.{key}") is not _MISSING or field(run, f"summary.{key}") is not _MISSING


def compile_filter(text: str, runs: Any = None) -> Callable[[Any], bool]:
    """A predicate over runs for a text filter; raises FilterError on a bad one, and (given
    the `runs` it is for) on a key that none of them has.

    Bare keys resolve per run: config when that run's config has the key, else summary.
    """
    parse_filter(text)  # report errors now, not per run
    if runs is not None:
        check_keys(text, runs)
    if not text.strip():
        return lambda run: True

    def predicate(run: Any) -> bool:
        keys = set(_flat_keys(run.config))
        return matches(run, parse_filter(text, keys))

    return predicate


def _flat_keys(d: dict[str, Any]) -> list[str]:
    """Every flat config key (logger.flat's rule) and each of its dotted prefixes."""
    out: dict[str, None] = {}
    for key in flatten(d):
        parts = key.split(".")
        for i in range(1, len(parts) + 1):
            out[".".join(parts[:i])] = None
    return list(out)
