"""KeyBar: the screen's keys, wrapped onto as many lines as the width needs.

Textual's Footer is one line that scrolls sideways, so at 80 columns most keys of the run
table would be off screen; every action here must show its key. A click runs the action.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    KeyBar > .keybar--key { color: $footer-key-foreground; text-style: bold; }
    """
    COMPONENT_CLASSES = {"keybar--key"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._hits: list[tuple[int, int, int, str]] = []  # line, x0, x1, key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, _screen: object) -> None:
        # Not while another screen covers ours: a layout of a hidden screen sets Textual
        # repainting the top screen whole, ~20 times a second, while anything there is live.
        # A screen lays itself out again when it comes back on top.
        if self.screen is self.app.screen:
            self.refresh(layout=True)

    def _items(self) -> list[tuple[str, str, str]]:
        seen: set[str] = set()
        items = []
        for _node, binding, enabled, _tip in self.screen.active_bindings.values():
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            items.append((self.app.get_key_display(binding), binding.description, binding.key))
        palette: Binding | None = None
        for _node, binding, _enabled, _tip in self.screen.active_bindings.values():
            if binding.action == "app.command_palette" or binding.action == "command_palette":
                palette = binding
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            items.append((self.app.get_key_display(palette), "commands", palette.key))
        return items

    def _lines(self, width: int) -> list[list[tuple[str, str, str]]]:
        lines: list[list[tuple[str, str, str]]] = [[]]
        used = 0
        for item in self._items():
            size = len(item[0]) + 1 + len(item[1]) + 2
            if used and used + size > width:
                lines.append([])
                used = 0
            lines[-1].append(item)
            used += size
        return lines

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return max(1, len(self._lines(width)))

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        text = Text(no_wrap=True, overflow="crop", end="")
        self._hits = []
        for y, line in enumerate(self._lines(self.size.width or 80)):
            if y:
                text.append("\n")
            x = 0
            for display, description, key in line:
                start = x
                text.append(display, key_style)
                text.append(" " + description + "  ")
                x += len(display) + 1 + len(description) + 2
                self._hits.append((y, start, x, key))
        return text

    def on_click(self, event: events.Click) -> None:
        for y, x0, x1, key in self._hits:
            if event.y == y and x0 <= event.x < x1:
                self.app.simulate_key(key.split(",")[0])
                return
