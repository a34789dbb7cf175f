"""A run's console lines for the Logs tab (no Textual or Rich): chunks read by offset as they
are written, turned into lines as the terminal showed them, escaped for display."""

from __future__ import annotations

from pathlib import Path

from logger.streams import ConsoleFollower, OutputRenderer, terminal_text


class ConsoleTail:
    """Each `read_new()` returns only the lines completed since the last call; `final=True`
    (the run is over) adds the line still open, e.g. a progress bar at its last redraw."""

    def __init__(self, run_dir: Path) -> None:
        self._follower = ConsoleFollower(run_dir)
        self._renderer = OutputRenderer()

    def read_new(self, final: bool = False) -> list[str]:
        renderer = self._renderer
        out = [text for chunk in self._follower.read_new() for _t, _s, text in renderer.feed(chunk)]
        if final:
            out += [text for _t, _s, text in renderer.unfinished()]
        return [terminal_text(text) for text in out]


# The run table's console column, offered by the column picker beside the logged metrics:
# picker key -> (RunView field, the column's header, the picker's label).
CONSOLE_COLUMNS = {
    "system:console": ("console", "console", "console (last line of each running run)"),
    "system:console_all": ("console_all", "console (all)",
                           "console (last line of every run, finished ones too)"),
}


def console_cell(line: str, state: str, every: bool = False) -> str:
    """A run's last console line as one escaped line (colours dropped); "" for a run that is
    not running unless `every` (the user picked the column that shows finished runs too)."""
    if not line or (state != "running" and not every):
        return ""
    return terminal_text(line)
