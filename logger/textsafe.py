"""Text from files, made safe to show: control characters and escape sequences become visible
escapes, so a run named "\\x1b]52;..." can never drive the terminal that shows it.

The one escaping path for every renderer: `safe_text`/`one_line` for a field, `TerminalWriter`
for a whole stream (what the headless commands write through, so a field that skipped
`safe_text` still cannot reach the terminal raw), `escape_json` for JSON text.
"""

from __future__ import annotations

import re
from typing import Any, TextIO, cast

# C0 and C1 controls, DEL, the bidi overrides/isolates and marks that reorder what follows
# them, the Unicode line/paragraph separators, and lone surrogates (a file name that is not
# UTF-8, as os.fsdecode gives it: it cannot even be encoded for the terminal).
_UNSAFE_CLASS = (r"\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                 r"\u2066-\u2069\ud800-\udfff")
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n\t"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# JSON escapes C0 controls itself (ESC comes out as \u001b); these it leaves raw, and a
# terminal showing the JSON could act on them: DEL, C1 controls (0x9b is CSI), bidi controls.
_JSON_UNSAFE = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xa8\xa9\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def safe_text(value: object, *, newlines: bool = False) -> str:
    """`value` as a string with every control character shown as an escape.

    Tabs stay tabs; newlines become "\\n" unless `newlines=True` (multi-line notes).
    A byte that was not UTF-8 in a file name shows as "\\xff".
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


def terminal_text(text: str) -> str:
    """A whole block of output made safe: every control escaped but newline and tab, which
    the renderer's own layout uses (what a field did not escape cannot drive the terminal)."""
    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN_ASCII):
        return text  # the common case, checked ~5x faster than by the regex (~500 MB/s)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(_escape, text)
    return text


class TerminalWriter:
    """A text stream whose every write goes through `terminal_text` on its way out."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal_text(text))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str) -> Any:  # encoding, buffer, ...: the stream's own
        return getattr(self.stream, name)


def terminal_safe(stream: TextIO) -> TextIO:
    """`stream` wrapped in a TerminalWriter (once: wrapping twice would escape nothing more)."""
    if isinstance(stream, TerminalWriter):
        return stream
    return cast(TextIO, TerminalWriter(stream))


def without_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by its escape, so
    that it encodes as UTF-8: a non-UTF-8 file name becomes "p\\xff" text in JSON."""
    kind = type(value)
    if kind is str:
        return _SURROGATE.sub(_escape, value) if _SURROGATE.search(value) else value
    if kind is dict:
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [without_surrogates(v) for v in value]
    return value


def escape_json(data: bytes) -> bytes:
    """JSON text with the characters JSON itself leaves raw (DEL, C1, bidi) as \\u escapes."""
    if _JSON_UNSAFE.search(data):
        data = _JSON_UNSAFE.sub(_json_escape, data)
    return data


def _json_escape(m: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(m.group().decode())
