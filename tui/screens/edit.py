"""Editing tags and notes in modals, and saving them as editor segments (DESIGN.md section 3).

Tags are saved as deltas (added, removed), so two apps tagging the same run lose neither
edit; notes are saved whole, and an edit made elsewhere meanwhile is kept, not overwritten.

Input and TextArea draw their text as it is, so what goes into them is made safe first:
a tag holding an escape sequence is edited as its visible escape ("\\x1b]2;..."), and maps
back to the stored tag when it is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, TextArea

from logger.edit import EditError, edit_notes, set_tags
from logger.textsafe import one_line, safe_text

from ..model.runview import RunView
from ..model.store import RunStore

CONFLICT_MARK = "--- notes saved elsewhere while this edit was open ---"


def parse_tags(text: str) -> list[str]:
    out: list[str] = []
    for part in text.split(","):
        tag = part.strip()
        if tag and tag not in out:
            out.append(tag)
    return out


def shared_tags(views: Iterable[RunView]) -> list[str]:
    """Tags every one of `views` has, in the first run's order."""
    views = list(views)
    if not views:
        return []
    common = set(views[0].tags).intersection(*(set(v.tags) for v in views[1:]))
    return [t for t in views[0].tags if t in common]


def save_tags(views: list[RunView], old: list[str], new: list[str]) -> list[Path]:
    """Write the change old -> new to each run (as a delta). Raises logger.edit.EditError."""
    return [set_tags(v.dir, v.id, old, new) for v in views]


def merge_notes(base: str, theirs: str, mine: str) -> str:
    """Notes to save: mine, unless someone else saved different notes after `base` was read."""
    if theirs == base or theirs == mine or not theirs.strip():
        return mine
    return f"{mine.rstrip()}\n\n{CONFLICT_MARK}\n{theirs}"


def save_notes(views: list[RunView], notes: str) -> list[Path]:
    return [edit_notes(v.dir, v.id, notes) for v in views]


class TagSuggester(Suggester):
    """Completes the tag being typed (after the last comma) from tags that runs already have."""

    def __init__(self, tags: Iterable[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tags = sorted(set(tags))

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(",")
        token = last.lstrip()
        if not token:
            return None
        typed = set(parse_tags(head))
        for tag in self.tags:
            if tag.startswith(token) and tag != token and tag not in typed:
                return value + tag[len(token):]
        return None


class TagsScreen(ModalScreen[list[str] | None]):
    """Comma-separated tags; Enter saves, Escape cancels, → accepts a completion."""

    DEFAULT_CSS = """
    TagsScreen { align: center middle; }
    TagsScreen > Vertical {
        width: 80%; max-width: 90; height: auto; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    TagsScreen Label { width: 1fr; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, tags: list[str], known: Iterable[str]) -> None:
        super().__init__()
        self.title_text = title
        self.tags = tags
        self.known = sorted(set(known))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))
            yield Input(", ".join(self.tags), placeholder="tag, another tag",
                        suggester=TagSuggester(self.known), id="tags-input")
            known = ", ".join(one_line(t) for t in self.known[:30])
            yield Label(Text(f"known: {known}" if known else "no tags yet"))
            yield Label(Text("enter saves · escape cancels · → completes a tag"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(parse_tags(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class NotesScreen(ModalScreen[str | None]):
    """A multi-line notes editor; ctrl+s saves, Escape cancels."""

    DEFAULT_CSS = """
    NotesScreen { align: center middle; }
    NotesScreen > Vertical {
        width: 90%; max-width: 110; height: 80%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    NotesScreen TextArea { height: 1fr; }
    NotesScreen Label { width: 1fr; color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "save", priority=True),
        Binding("escape", "cancel", "cancel", priority=True),
    ]

    def __init__(self, title: str, notes: str) -> None:
        super().__init__()
        self.title_text = title
        self.notes = notes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))
            yield TextArea(self.notes, id="notes-input", soft_wrap=True)
            yield Label(Text("ctrl+s saves · escape cancels"))

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Editor:
    """Tag and notes editing for every screen that edits: opens the modal, saves in a worker
    thread, and has the store read the new editor segment at once. The App makes one."""

    def __init__(self, app: App[Any], store: RunStore) -> None:
        self.app = app
        self.store = store

    def edit_tags(self, views: list[RunView]) -> None:
        """Open the tag editor for `views`; saving writes one editor segment per run."""
        if not views:
            return
        old = shared_tags(views)
        title = (f"Tags of {one_line(views[0].name)}" if len(views) == 1 else
                 f"Tags of {len(views)} runs (shared tags shown; changes apply to each)")
        known = {t for v in self.store.views.values() for t in v.tags}
        stored = {safe_text(t): t for t in (*known, *old)}  # what is shown -> what is stored

        def done(shown: list[str] | None) -> None:
            new = None if shown is None else [stored.get(t, t) for t in shown]
            if new is not None and new != old:
                self._save(lambda: save_tags(views, old, new))

        self.app.push_screen(TagsScreen(title, [safe_text(t) for t in old], stored), done)

    def edit_notes(self, views: list[RunView]) -> None:
        if not views:
            return
        base = views[0].notes
        shown = safe_text(base, newlines=True)
        title = (f"Notes of {one_line(views[0].name)}" if len(views) == 1 else
                 f"Notes of {len(views)} runs (the first run's notes shown; saved to each)")
        if shown != base:
            title += " (control characters shown as \\xNN are saved as shown)"

        def done(text: str | None) -> None:
            if text is None or text == shown:
                return
            theirs = self.store.views.get(views[0].path, views[0]).notes
            notes = merge_notes(base, theirs, text)
            if notes != text:
                self.app.notify("Notes were changed elsewhere meanwhile; both versions are kept.",
                                severity="warning")
            self._save(lambda: save_notes(views, notes))

        self.app.push_screen(NotesScreen(title, shown), done)

    def _save(self, write: Callable[[], list[Path]]) -> None:
        self.app.run_worker(partial(self._write, write), thread=True, group="edit")

    def _write(self, write: Callable[[], list[Path]]) -> None:
        """In a worker thread: write the edit, then read it back (or say why it failed)."""
        try:
            paths = write()
        except (EditError, OSError, ValueError, TypeError) as exc:
            self.app.call_from_thread(self.app.notify, safe_text(str(exc)), title="not saved",
                                      severity="error", markup=False)
            return
        self.store.ingest(paths)
