"""How runwatch writes values for people and for programs: durations, ages, clock times,
numbers, sizes, states, and JSON. One place for the app and the headless commands alike (no
Textual here); every string from a file goes through `logger.textsafe` in these functions.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Any

import msgspec

from logger.textsafe import escape_json, one_line, safe_text, without_surrogates

STATE_GLYPHS = {"running": "▶", "finished": "✓", "failed": "✗", "killed": "■", "crashed": "!"}


# -- time -----------------------------------------------------------------------------------
def fmt_duration(seconds: float) -> str:
    """12s, 3m05s, 4h02m, 2d03h: compact, and sortable by eye."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def fmt_ago(t: float, now: float) -> str:
    """How long ago `t` was within two days (seconds under ten, tens of seconds under a
    minute, then whole minutes: an idle table's ages change once a minute, not every second —
    bytes over SSH, and a repaint each a silent run's age ticks), else its date; "" for none."""
    if not t:
        return ""
    ago = max(0.0, now - t)
    if ago < 10:
        return f"{int(ago)}s"
    if ago < 60:
        return f"{int(ago) // 10 * 10}s"
    if ago < 3600:
        return f"{int(ago) // 60}m"
    if ago < 86400 * 2:
        return fmt_duration(ago)
    return time.strftime("%y-%m-%d", time.localtime(t))


def ago_changes_at(t: float, now: float) -> float | None:
    """When `fmt_ago(t, ...)` next shows another text (after `now`); None: never (a date).
    The screen sets one timer for the soonest of these, not a tick a second."""
    if not t:
        return None
    ago = int(max(0.0, now - t))
    if ago >= 86400 * 2:
        return None
    step = 1 if ago < 10 else 10 if ago < 60 else 60 if ago < 86400 else 3600
    return min(t + (ago // step + 1) * step, t + 86400 * 2)


def duration_changes_at(start: float, now: float) -> float:
    """When `fmt_duration(now' - start)` next shows another text (after `now`)."""
    s = int(max(0.0, now - start))
    step = 1 if s < 3600 else 60 if s < 86400 else 3600
    return start + (s // step + 1) * step


def duration_label(seconds: float) -> str:
    """A chart tick on a time axis: 90s, 12m, 3.5h, 2.0d."""
    s = abs(seconds)
    if s < 120:
        return f"{seconds:.0f}s"
    if s < 7200:
        return f"{seconds / 60:.0f}m"
    if s < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def fmt_clock(t: float, today: str | None = None) -> str:
    """HH:MM:SS local time; older days get their date in front."""
    lt = time.localtime(t)
    day = time.strftime("%Y-%m-%d", lt)
    if day == (today or time.strftime("%Y-%m-%d")):
        return time.strftime("%H:%M:%S", lt)
    return f"{day} {time.strftime('%H:%M:%S', lt)}"


def iso_time(t: float | None) -> str | None:
    """ISO 8601 in UTC with milliseconds (what JSON output carries), or None."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")


# -- numbers, sizes, states -------------------------------------------------------------------
def fmt_value(value: Any, width: int = 40, fixed: bool = True) -> str:
    """A value, short: 0.2310 (fixed) or 0.9, 3e-05, 1200, nan; strings made safe, cut to `width`.

    Metrics print with four decimals so that columns line up; config values (`fixed=False`)
    print as written.
    """
    kind = type(value)
    if kind is float:
        if value != value or value in (math.inf, -math.inf):
            return str(value)
        a = abs(value)
        if a == 0:
            return "0"
        if not fixed:
            return f"{value:.6g}"
        if a < 0.01 or a >= 1e6:
            return f"{value:.4g}"
        return f"{value:.4f}"
    if kind is int or kind is bool:
        return str(value)
    if value is None:
        return "none"
    if kind is str:
        return short(value, width)
    if kind is dict and "_type" in value:  # logged media: "Image 64x64 png"
        from logger.media.readback import describe

        return short(describe(value) or to_json(value).decode(), width)
    return short(to_json(value).decode(), width)


def fmt_number(value: Any) -> str:
    """A table cell: 4 significant digits, big integers in e-notation, text made safe."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**7 else f"{value:.3g}"
    if isinstance(value, float):
        return f"{value:.4g}"  # nan and inf show as such: a loss that diverged must be seen
    return one_line(value)


def fmt_exact(value: Any) -> str:
    """A value as stored, where a person reads it one at a time (the detail screen's config
    and summary, a config diff): integers whole and floats in the shortest form that reads
    back the same, as W&B's run page shows them. fmt_number's four digits made seed
    123456789 read "1.23e+08" and two differing learning rates read alike. Logged media is
    described ("Table 2 rows x 2 cols"); text made safe, whole, its newlines shown as \\n."""
    if value is None or isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # nan, inf and -inf as such
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict) and "_type" in value:
        from logger.media.readback import describe

        return safe_text(describe(value) or to_json(value).decode())
    return safe_text(to_json(value).decode())


def fmt_mean_std(mean: float, std: float) -> str:
    """mean ± std as a person reads it: the std to 2 significant digits and the mean to the
    same decimal place (0.0202±0.0013, 12340±210); a std that is float noise next to the
    mean (2.8e-17 beside 0.02) reads as 0."""
    if not (math.isfinite(mean) and math.isfinite(std)):
        return f"{mean:.4g}±{std:.2g}"
    if std <= abs(mean) * 1e-9 or std == 0:
        return f"{mean:.4g}±0"
    places = 1 - math.floor(math.log10(std))
    if places > 6:  # tiny values: significant digits say more than a row of zeros
        return f"{mean:.3g}±{std:.2g}"
    if places > 0:
        return f"{mean:.{places}f}±{std:.{places}f}"
    return f"{round(mean, places):.0f}±{round(std, places):.0f}"


def short_number(value: float) -> str:
    """A chart tick: 250, 1.2k, 3.4M."""
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:.4g}M"
    if a >= 1e4:
        return f"{value / 1e3:.4g}k"
    return f"{value:.0f}" if value == int(value) else f"{value:.3g}"


def fmt_size(n: int) -> str:
    """Bytes in decimal units: 512 B, 1.5 KB, 3.2 GB."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def fmt_state(state: str) -> str:
    """A run's state as a word. It is read from a file (a Finish event), so it is escaped too."""
    return state if state in STATE_GLYPHS else short(state, 20)


# -- text -----------------------------------------------------------------------------------
def short(value: object, width: int) -> str:
    """`value` made safe (newlines shown as \\n), cut to `width` characters with an ellipsis."""
    text = safe_text(value)
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def last_line(text: str | None) -> str:
    """The last non-empty line of an error: what a traceback says went wrong."""
    if not text:
        return ""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


# -- JSON -----------------------------------------------------------------------------------
_ENCODER = msgspec.json.Encoder()
_encode_json = _ENCODER.encode
encode_json_lines = _ENCODER.encode_lines


def json_safe(data: bytes) -> bytes:
    """`escape_json(data)`, with plain ASCII and no DEL (nearly all JSON) passed as it is,
    checked at memory speed rather than by the regular expression."""
    if data.isascii() and b"\x7f" not in data:
        return data
    return escape_json(data)


# W&B's spelling (wandb/util.py make_safe_for_json): strict JSON that jq and JSON.parse read,
# and that float() and JavaScript's Number() parse back (Number("inf") is NaN, Number("Infinity") not).
NAN, INF, NEG_INF = "NaN", "Infinity", "-Infinity"
_AS_IS = {str, int, bool, type(None)}


def json_float(value: float) -> float | str:
    """A float as JSON carries it: NaN and the infinities as W&B's strings, others as they are."""
    if value != value:
        return NAN
    if value in (math.inf, -math.inf):
        return INF if value > 0 else NEG_INF
    return value


def jsonable(value: Any) -> Any:
    """Values as JSON can carry them: NaN and infinities become W&B's strings "NaN",
    "Infinity", "-Infinity" (msgspec alone would write null), in lists and dicts too."""
    kind = type(value)
    if kind is float:
        # value - value is 0.0 for a finite float, NaN for NaN and the infinities: one test
        return json_float(value) if value - value else value
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    if kind in _AS_IS:
        return value
    return _jsonable_other(value)


def _jsonable_other(value: Any) -> Any:
    """jsonable for the rare kinds: a set, a float subclass (numpy's float64), a dict or list
    subclass; anything else as it is (msgspec encodes it, or says it cannot)."""
    if isinstance(value, float):
        return json_float(float(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def to_json(value: Any) -> bytes:
    """`value` as UTF-8 JSON that is safe to print: JSON escapes C0 controls, `escape_json` the
    rest; a name that is not UTF-8 (a lone surrogate) is written as its escape, "p\\xff"."""
    data = jsonable(value)
    try:
        out = _encode_json(data)
    except UnicodeEncodeError:  # rare: only file names carry surrogates, so check only then
        out = _encode_json(without_surrogates(data))
    return json_safe(out)


def json_line(obj: dict[str, Any]) -> str:
    return to_json(obj).decode() + "\n"
