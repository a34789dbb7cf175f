"""The one flattening of nested dicts into "a.b" keys: config, summary and history alike.

    flatten({"opt": {"lr": 0.1}, "bs": {"value": 64}})  ->  {"opt.lr": 0.1, "bs.value": 64}

The rule is W&B's: nested dicts become dotted keys, whatever the depth. A `{"value": x}` dict
that a script passed is not unwrapped: W&B unwraps that form only when it loads its own
config files (config-defaults.yaml), and its app shows a script's `{"bs": {"value": 64}}` as
`bs.value`. Keys that are not strings (old writers stored `{"acc": {0: 0.9}}`) become their
`str()`, as writers now store them; an empty nested dict stays a key holding `{}`, so nothing
logged disappears. A dict with a `_type` key is one value, not a level: W&B's media JSON
(`{"_type": "image-file", "path": ...}`, logger/media/) stays whole. Iterative, so no nesting depth a file can hold makes it raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(values: Mapping[Any, Any]) -> dict[str, Any]:
    """Nested dicts as one flat dict of "a.b" keys (the rule above)."""
    out: dict[str, Any] = {}
    flatten_into(out, values, {})
    return out


def flatten_into(out: dict[str, Any], values: Mapping[Any, Any],
                 paths: dict[str, tuple[str, ...]]) -> None:
    """`flatten` into `out`, remembering in `paths` the key path of every nested key, so a
    summary can nest again what was logged nested (and leave literal dotted keys alone)."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), iter(values.items()))]
    while stack:
        path, items = stack[-1]
        for key, value in items:
            sub = (*path, key if type(key) is str else str(key))
            if isinstance(value, Mapping) and value and "_type" not in value:
                stack.append((sub, iter(value.items())))  # depth first, keys in their order
                break
            flat = ".".join(sub)
            out[flat] = value
            if len(sub) > 1:
                paths[flat] = sub
        else:
            stack.pop()
