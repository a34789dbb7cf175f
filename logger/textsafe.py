"""Text from files, made safe to show: control characters and escape sequences become visible
escapes, so a run named "\\x1b]52;..." can never drive the terminal that shows it."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidi overrides/isolates that reorder what follows them.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe_text(value: object, *, newlines: bool = False) -> str:
    """`value` as a string with every control character shown as an escape.

    Tabs stay tabs; newlines become "\\n" unless `newlines=True` (multi-line notes).
    """
    text = value if isinstance(value, str) else str(value)
    if newlines:
        text = text.replace("\r\n", "\n")
    else:
        text = text.replace("\n", "\\n").replace("\r", "\\r")
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(_escape, text)
    return text


def one_line(value: object, width: int | None = None) -> str:
    """The first line of `value`, made safe, cut to `width` characters with an ellipsis."""
    text = value if isinstance(value, str) else str(value)
    first = text.split("\n", 1)[0]
    out = safe_text(first)
    if width is not None and len(out) > width:
        out = out[: max(0, width - 1)] + "…"
    return out
