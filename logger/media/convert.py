"""The hook `Run.log` calls on a row msgspec could not encode: media become files and refs.

`convert_row` replaces each media value (an `Image`, a `Table`, a matplotlib or plotly figure,
a pandas DataFrame, a list of media, media nested in dicts) by W&B's history JSON for it,
writing its file under the run; a `plot.*` chart becomes its table under `<key>_table` and a
`Chart` event, as W&B does. The files are written by the run's media thread (spool.py), never
inside `log()`. Anything else is left for `values.convert`. A failure warns once,
naming the key, and keeps the value's repr: nothing here raises into the training loop.
"""

from __future__ import annotations

from typing import Any

from .base import Context, Media, module_of
from .spool import spool_of

_PLAIN = (str, int, float, bool, type(None))
_MAX_DEPTH = 16
_FIGURE_MODULES = frozenset(("matplotlib", "plotly", "pandas"))


def convert_row(run: Any, step: int | str, data: dict[Any, Any]) -> dict[Any, Any]:
    """`data` with media stored and replaced by refs; the same dict when it holds none."""
    if not any(is_media(v) or _unstorable_items(v) for v in data.values()):
        return data
    files_dir = run._dir / "files"
    out: dict[Any, Any] = {}
    for key, value in data.items():
        if isinstance(value, _PLAIN):
            out[key] = value
            continue
        if _unstorable_items(value):
            run._warn_once(f"repr:{key}", f"runwatch: log() value for {key!r} is a "
                           f"{type(value).__name__} holding values that are not numbers, strings, "
                           "lists, dicts or media; storing their repr()")
        chart = _chart_of(value)
        if chart is not None:
            table_key = chart.spec.table_key_for(str(key))
            out[table_key] = _safe(run, files_dir, table_key, step, chart.table)
            _emit_chart(run, str(key), table_key, chart)
            continue
        out[key] = _safe(run, files_dir, str(key), step, value)
    return out


def is_media(value: Any, depth: int = 0) -> bool:
    """Whether `value` is (or holds) something this package stores as a file or media JSON."""
    if isinstance(value, _PLAIN):
        return False
    if isinstance(value, Media) or _chart_of(value) is not None or _is_figure(value):
        return True
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, (list, tuple)):
        return any(not isinstance(v, _PLAIN) and is_media(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(is_media(v, depth + 1) for v in value.values())
    return False


def cell_value(ctx: Context, value: Any) -> Any:
    """A table cell as JSON: media as their refs, everything else as `values.convert` makes it."""
    from ..values import convert

    if is_media(value):
        return media_value(ctx, value, 0)
    return convert(value)


def media_value(ctx: Context, value: Any, depth: int) -> Any:
    """W&B's history JSON for one value (media written under the run as a side effect)."""
    if isinstance(value, Media):
        return value.to_ref(ctx)
    if _is_figure(value):
        return _figure(value).to_ref(ctx)
    if isinstance(value, (list, tuple)) and depth < _MAX_DEPTH:
        items = [_figure(v) if _is_figure(v) else v for v in value]
        if items and all(isinstance(v, Media) for v in items) and len({type(v) for v in items}) == 1:
            from .sequences import sequence_ref

            return sequence_ref(ctx, items)
        return [media_value(ctx, v, depth + 1) for v in items]
    if isinstance(value, dict) and depth < _MAX_DEPTH:
        return {k: media_value(ctx.child(f"{ctx.key}.{k}"), v, depth + 1) for k, v in value.items()}
    return value


def _safe(run: Any, files_dir: Any, key: str, step: int | str, value: Any) -> Any:
    try:
        ctx = Context(files_dir, key, step, run, cell_value, spool_of(run))
        return media_value(ctx, value, 0)
    except Exception as exc:  # noqa: BLE001 - logging never raises into the training loop
        run._warn_once(f"media:{key}", f"runwatch: could not store the {type(value).__name__} "
                       f"logged as {key!r} ({type(exc).__name__}: {exc}); storing its repr() instead")
        try:
            return repr(value)
        except Exception:  # noqa: BLE001
            return f"<{type(value).__name__}>"


def _is_figure(value: Any) -> bool:
    mod = module_of(value)
    if mod not in _FIGURE_MODULES:
        return getattr(value, "__name__", None) == "matplotlib.pyplot"
    name = type(value).__name__
    if mod == "pandas":
        return name == "DataFrame"
    if mod == "plotly":
        return callable(getattr(value, "to_json", None))
    return name in ("Figure", "SubFigure") or callable(getattr(value, "get_figure", None))


def _figure(value: Any) -> Media:
    """A figure as W&B stores it: plotly as `plotly-file`; matplotlib as a PNG `image-file`
    (W&B converts it to plotly, which fails for many figures); a DataFrame as a table."""
    mod = module_of(value)
    if mod == "plotly":
        from .files import Plotly

        return Plotly(value)
    if mod == "pandas":
        from .table import Table

        return Table(dataframe=value)
    from .image import Image

    return Image(value)


def _unstorable_items(value: Any, depth: int = 0) -> bool:
    """A list or dict holding something `values.convert` could only keep as repr (a top-level
    value of that kind is warned about by Run itself)."""
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return False
    for v in items:
        if isinstance(v, _PLAIN):
            continue
        if isinstance(v, (list, tuple, dict)):
            if _unstorable_items(v, depth + 1):
                return True
        elif not is_media(v) and not _convertible(v):
            return True
    return False


def _convertible(v: Any) -> bool:
    return any(hasattr(v, a) for a in ("item", "tolist", "__float__", "__int__")) or isinstance(
        v, (set, frozenset))


def _chart_of(value: Any) -> Any:
    from .plot import CustomChart

    return value if isinstance(value, CustomChart) else None


def _emit_chart(run: Any, key: str, table_key: str, chart: Any) -> None:
    from .. import clock
    from .. import events as ev

    spec = chart.spec.config_value(table_key)
    run._emit(ev.Chart(key=key, table_key=table_key, spec=spec, time=clock.now()))
