"""`run.config` and `run.summary`: W&B's dict-like objects, each change recorded as an event."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .metrics import HIDDEN
from .values import convert, deep_merge


class ConfigError(ValueError):
    """A config change W&B would refuse too."""


class Config:
    """Hyperparameters: `config.lr`, `config["lr"]`, `config.update({...})`, all recorded.

    Changing a value already set raises unless `allow_val_change=True`, as in W&B.
    """

    def __init__(self, record: Callable[[dict[str, Any]], None] | None = None,
                 allow_val_change: bool = False, initial: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_items", dict(initial or {}))
        object.__setattr__(self, "_record", record)
        object.__setattr__(self, "_allow", allow_val_change)

    # -- writing ----------------------------------------------------------------------------
    def update(self, d: Mapping[str, Any] | argparse.Namespace | None = None,
               allow_val_change: bool | None = None, **kwargs: Any) -> None:
        """Merge keys in (a dict, an argparse.Namespace, or keyword arguments)."""
        values = _as_dict(d)
        values.update(kwargs)
        if not values:
            return
        allow = self._allow if allow_val_change is None else allow_val_change
        converted = {str(k): convert(v) for k, v in values.items()}
        if not allow:
            for key, value in converted.items():
                if key in self._items and self._items[key] != value and not (
                    isinstance(value, dict) and isinstance(self._items[key], dict)
                ):
                    raise ConfigError(
                        f"config key {key!r} already set to {self._items[key]!r}; "
                        f"pass allow_val_change=True to change it to {value!r}"
                    )
        object.__setattr__(self, "_items", deep_merge(self._items, converted))
        if self._record is not None:
            self._record(converted)

    def setdefaults(self, d: Mapping[str, Any] | argparse.Namespace) -> None:
        """Set only the keys not set yet (W&B's config.setdefaults)."""
        self.update({k: v for k, v in _as_dict(d).items() if k not in self._items})

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_"):
            raise AttributeError(f"config keys may not start with '_': {key!r}")
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        raise ConfigError(f"config keys cannot be removed (tried {key!r}); runs keep what they ran with")

    # -- reading ----------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}; set it with config.update({{{key!r}: ...}})") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def values(self) -> Any:
        return self._items.values()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._items == other._items
        return isinstance(other, Mapping) and self._items == dict(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Config({self._items!r})"


def _as_dict(d: Any) -> dict[str, Any]:
    if d is None:
        return {}
    if isinstance(d, argparse.Namespace):
        return dict(vars(d))
    if isinstance(d, Config):
        return d.as_dict()
    if isinstance(d, Mapping):
        return dict(d)
    if hasattr(d, "__dict__") and not isinstance(d, type):
        return {k: v for k, v in vars(d).items() if not k.startswith("_")}
    raise TypeError(f"config takes a dict or an argparse.Namespace, not {type(d).__name__}")


class Summary:
    """The last value of every logged key, plus keys set by hand (`summary["best"] = x`).

    A key set by hand stays until a later `log` of that key, as in W&B. `view(key, value)`
    (the run's define_metric state) turns a logged value into what W&B shows: `{"min": 1}`,
    or HIDDEN for summary="none".
    """

    def __init__(self, last: dict[str, Any], record: Callable[[dict[str, Any], list[str]], None],
                 view: Callable[[str, Any], Any] | None = None) -> None:
        self._last = last  # updated by Run.log in place: the hot path does no more
        self._set: dict[str, Any] = {}
        self._record = record
        self._view = view

    def _merged(self) -> dict[str, Any]:
        out = dict(self._set)
        view = self._view
        if view is None:
            out.update(self._last)
            return out
        for key, value in self._last.items():
            shown = view(key, value)
            if shown is HIDDEN:
                out.pop(key, None)
            else:
                out[key] = shown
        return out

    def __getitem__(self, key: str) -> Any:
        if key in self._last:
            value = self._last[key]
            if self._view is None:
                return value
            shown = self._view(key, value)
            if shown is HIDDEN:
                raise KeyError(key)
            return shown
        return self._set[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"summary has no key {key!r}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        found = self._last.pop(key, None) is not None
        found = self._set.pop(key, None) is not None or found
        if not found:
            raise KeyError(key)
        self._record({}, [key])

    # Set by Run: media values (Image, Table, ...) become files and W&B's refs (logger/media).
    _media: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None

    def update(self, d: Mapping[str, Any]) -> None:
        if not isinstance(d, Mapping):
            raise TypeError(f"summary.update takes a dict, not {type(d).__name__}")
        values = {str(k): convert(v) for k, v in (d if self._media is None else self._media(d)).items()}
        for key, value in values.items():
            self._last.pop(key, None)
            self._set[key] = value
        self._record(values, [])

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> Any:
        return self._merged().keys()

    def items(self) -> Any:
        return self._merged().items()

    def __contains__(self, key: object) -> bool:
        if key in self._last and self._view is not None and isinstance(key, str):
            return self._view(key, self._last[key]) is not HIDDEN or key in self._set
        return key in self._last or key in self._set

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())

    def as_dict(self) -> dict[str, Any]:
        return self._merged()

    _json_dict = property(_merged, doc="W&B's name for the summary as a plain dict (scripts read it)")

    def __repr__(self) -> str:
        return f"Summary({self._merged()!r})"
