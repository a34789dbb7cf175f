"""FilterBox: the run table's filter line. "/" opens it, enter or escape closes it, and every
keystroke filters live (the screen listens to Input.Changed). A filter that does not parse is
said on the box's border while typing; enter on it says it again and leaves the box open (the
table still shows the last good filter, and a closed box would hide why).

The problem is said on Input.Changed, which reaches the screen after the key that changed the
text, so enter right behind that key (a burst, a paste) judges the text itself with `check`
rather than a problem said about the text before it."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.widgets import Input

from logger.textsafe import safe_text


class FilterBox(Input):
    def __init__(self, back_to: str, check: Callable[[str], str] | None = None,
                 applied: Callable[[], str] | None = None, **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.back_to = back_to  # the selector of what gets focus when the box closes
        self.check = check  # why a text would not parse ("" when it would); None: any text does
        self.applied = applied  # the filter the table shows (the last text that parsed)
        self.problem = ""  # why the text does not parse ("" when it does)
        self._said_for = ""  # the text `problem` is about

    def open(self, text: str) -> None:
        self.display = True
        self.value = text
        # Focus now, not after the keys already queued: "/big" typed fast must all land here.
        self.screen.set_focus(self)

    def close(self) -> None:
        self.display = False
        self.screen.set_focus(self.screen.query_one(self.back_to))

    def say(self, problem: str, about: str | None = None) -> None:
        """Show why the text (`about`, by default the box's) does not parse (or nothing, with "")."""
        self.problem = safe_text(problem)
        self._said_for = self.value if about is None else about
        self.border_subtitle = self.problem

    def submit(self) -> None:
        """Enter: close on a filter that parses; on one that does not, say why and stay."""
        if self.check is not None and self._said_for != self.value:
            self.say(self.check(self.value))  # Changed for this text is still on its way
        if not self.problem:
            self.close()
            return
        self.app.bell()
        shown = self.applied() if self.applied is not None else ""
        # the table shows the last text that parsed, which may be a prefix of this one: say which
        showing = f"the table shows {safe_text(shown)!r}" if shown else "the table shows every run"
        self.app.notify(f"filter not applied: {self.problem}; {showing}", severity="error", markup=False)

    def take_key(self, event: events.Key) -> bool:
        """Keys typed right after "/" were queued for the table before the box took focus
        (Textual routes a key to the widget focused when it arrived): True if taken here."""
        if not (self.display and self.screen.focused is self):
            return False
        if event.key == "enter":
            self.submit()
        elif event.key == "escape":
            self.close()
        elif event.is_printable and event.character:
            self.insert_text_at_cursor(event.character)
        else:
            return False
        return True
