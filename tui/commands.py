"""The command palette's runs (ctrl+p): find a run by name, tag or id and jump to it; and the
palette-only commands (forget the remembered view).

Registered in the App's COMMANDS beside Textual's own and the screen's actions (which
`RunwatchApp.get_system_commands` lists with their keys).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from logger.textsafe import one_line

MAX_HITS = 50  # a root of 10k runs: the palette lists the best, not all
RESET_VIEW = "Reset view: forget remembered columns, sort, grouping, filter and charts"


def run_words(view: Any) -> str:
    """What a run is found by: its name, id, project and tags (shown escaped)."""
    tags = " ".join(f"#{one_line(t)}" for t in view.tags)
    return f"{one_line(view.name)}  {one_line(view.project)}/{one_line(view.id)}  {tags}".rstrip()


class RunCommands(Provider):
    """Every run of the App's store, by name, id or tag; choosing one jumps to its row."""

    def _main(self) -> Any:
        from .screens.main import MainScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    async def search(self, query: str) -> Hits:
        main = self._main()
        if main is None:
            return
        matcher = self.matcher(query)
        hits: list[tuple[float, str, str, str]] = []
        for view in list(main.store.views.values()):
            words = run_words(view)
            score = matcher.match(words)
            if score > 0:
                hits.append((score, words, view.path, view.state))
        hits.sort(key=lambda h: -h[0])
        for score, words, path, state in hits[:MAX_HITS]:
            yield Hit(score, matcher.highlight(words), partial(main.jump_to_run, path),
                      text=words, help=f"{state} · jump to this run")
        reset = matcher.match(RESET_VIEW)
        if reset > 0:
            yield Hit(reset, matcher.highlight(RESET_VIEW), main.reset_view, text=RESET_VIEW)

    async def discover(self) -> Hits:
        main = self._main()
        if main is not None:
            yield DiscoveryHit(RESET_VIEW, main.reset_view, text=RESET_VIEW)
