"""What a group row of the run table says, column by column: state counts, the group's
label, its config values, and a metric's mean ± std over the runs that logged it."""

from __future__ import annotations

import math

from logger.textsafe import one_line

from ..fmt import fmt_ago, fmt_mean_std, fmt_number
from .columns import Column
from .row_order import Group, Row
from .runview import STALLED_GLYPH, STATE_GLYPHS
from .stats import mean_std


def group_cells(row: Row, cols: list[Column], collapsed: bool, now: float) -> list[tuple[str, str]]:
    """(text, style name) per column of a group row; `collapsed`: its runs are folded."""
    group = row.group
    assert group is not None
    out: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    for v in group.runs:
        state = "stalled" if v.stalled(now) else v.state
        counts[state] = counts.get(state, 0) + 1
    for col in cols:
        kind, arg = col.key.kind, col.key.name
        key = arg if kind == "field" else ""
        if key == "state":
            glyphs = {**STATE_GLYPHS, "stalled": STALLED_GLYPH}
            text = " ".join(f"{n}{glyphs[s]}" for s, n in counts.items() if s in glyphs)
            out.append((text, "group"))
        elif key == "name":
            arrow = "▸" if collapsed else "▾"
            n = len(group.runs)
            label = f"{arrow} {n} run{'s' if n != 1 else ''}"
            if not cols or not any(c.key.kind == "config" for c in cols):
                label += f" {group.label}"  # else the config columns say it
            out.append((label, "group"))
        elif kind == "config":
            value = group.values.get(arg, group.runs[0].config_flat.get(arg))
            out.append((fmt_number(value) if value is not None else "", "group"))
        elif key == "sweep":
            sweeps = {v.sweep_id for v in group.runs}
            out.append((one_line(sweeps.pop() or "") if len(sweeps) == 1 else "", "dim"))
        elif key == "step":
            steps = [v.step for v in group.runs if v.step is not None]
            out.append((str(max(steps)) if steps else "", "group"))
        elif key == "updated":
            out.append((fmt_ago(max(v.logged_at for v in group.runs), now), "dim"))
        elif kind == "metric":
            out.append((metric_cell(group, arg), "group"))
        else:
            out.append(("", ""))
    return out


def metric_cell(group: Group, key: str) -> str:
    """Mean ± std of the runs that logged `key`: blank when none did, nan when all NaN."""
    logged = [x for x in (v.metric_value(key) for v in group.runs) if x is not None]
    if not logged:
        return ""
    m, s = mean_std(logged)
    return "nan" if math.isnan(m) else fmt_mean_std(m, s)
