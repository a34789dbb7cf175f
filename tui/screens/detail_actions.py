"""ChartActions: what the detail screen's keys and mouse do to its charts (DetailScreen
derives from it): smoothing, log y, the x axis, zoom and pan, the inspect cursor, the
highlighted run, legend pages, outliers, bands and the metrics charted.

Kept apart from tui/screens/detail.py (as main_actions.py is from main.py) so that the
screen keeps to composing, loading and drawing; the keys are bound there (BINDINGS).
"""

from __future__ import annotations

from textual.screen import Screen

from ..model import smooth as sm
from ..model.series import X_AXES, X_NAMES, ChartOptions
from ..model.zoom import View
from ..widgets.chart import Chart
from .pick import PickScreen

MAX_CHARTS = 4


class ChartActions(Screen[None]):
    """The DetailScreen's chart controls; it provides the attributes annotated here."""

    opts: ChartOptions
    paths: list[str]
    cursor: float | None
    legend_page: int

    def _set(self, **changes: object) -> None:
        raise NotImplementedError

    def _chart_state(self) -> None:
        raise NotImplementedError

    def _title(self) -> None:
        raise NotImplementedError

    def _charts(self) -> list[Chart]:
        raise NotImplementedError

    def _metric_keys(self) -> list[str]:
        raise NotImplementedError

    def action_smooth(self, step: int) -> None:
        levels = list(sm.LEVELS[self.opts.smoother])
        i = min(range(len(levels)), key=lambda j: abs(levels[j] - self.opts.smoothing))
        self._set(smoothing=levels[max(0, min(len(levels) - 1, i + step))])

    def action_log_y(self) -> None:
        self._set(log_y=not self.opts.log_y)

    def action_x_axis(self) -> None:
        at = X_AXES.index(self.opts.x_axis) if self.opts.x_axis in X_AXES else -1
        self._set(x_axis=X_AXES[(at + 1) % len(X_AXES)], view=View())

    def action_pick_x_axis(self) -> None:
        """Any logged metric as the x axis (values paired by history row), or a built-in one."""
        options = [(x, X_NAMES[x]) for x in X_AXES]
        options += [(k, k) for k in self._metric_keys()]

        def done(picked: list[str] | None) -> None:
            if picked:
                self._set(x_axis=picked[0], view=View())

        self.app.push_screen(PickScreen("x axis", options, [self.opts.x_axis]), done)

    def action_smoother(self) -> None:
        """The next smoothing kind (W&B's: time-weighted EMA, EMA, running average, gaussian),
        at the same position on its scale."""
        kinds = sm.KINDS
        kind = kinds[(kinds.index(self.opts.smoother) + 1) % len(kinds)]
        old = sm.LEVELS[self.opts.smoother]
        level = min(range(len(old)), key=lambda j: abs(old[j] - self.opts.smoothing))
        self._set(smoother=kind, smoothing=sm.LEVELS[kind][level])

    def action_zoom(self, factor: float, at: float | None = None) -> None:
        centre = self.cursor if at is None and self.cursor is not None else at
        self._set(view=self.opts.view.zoom(factor, 0.5 if centre is None else centre))

    def action_pan(self, by: float) -> None:
        self._set(view=self.opts.view.pan(by))

    def action_reset_zoom(self) -> None:
        self._set(view=View())

    def action_inspect(self) -> None:
        self.cursor = None if self.cursor is not None else 0.5
        self._chart_state()
        self._title()

    def action_move_cursor(self, by: float) -> None:
        if self.cursor is None:
            self.cursor = 0.5
            self._title()
        self.cursor = min(1.0, max(0.0, self.cursor + by))
        self._chart_state()

    def action_highlight(self, step: int) -> None:
        """Highlight the next (previous) run and dim the rest; past the last, none."""
        n = len(self.paths)
        self._set(highlight=(self.opts.highlight + 1 + step) % (n + 1) - 1)

    def action_legend_page(self) -> None:
        pages = max((c.legend_pages for c in self._charts() if c.display), default=1)
        self.legend_page = (self.legend_page + 1) % max(1, pages)
        self._chart_state()

    def action_outliers(self) -> None:
        self._set(robust=not self.opts.robust)
        self.notify("y scale: " + ("ignores far outliers" if self.opts.robust else "every value"))

    def on_chart_zoom_at(self, message: Chart.ZoomAt) -> None:
        self.action_zoom(message.factor, message.at)

    def on_chart_pan_by(self, message: Chart.PanBy) -> None:
        self.action_pan(message.by)

    def on_chart_cursor_at(self, message: Chart.CursorAt) -> None:
        self.cursor = message.at
        self._chart_state()

    def action_band(self) -> None:
        self._set(band="minmax" if self.opts.band == "std" else "std")

    def action_metrics(self) -> None:
        keys = self._metric_keys()

        def done(picked: list[str] | None) -> None:
            if picked is not None:
                if len(picked) > MAX_CHARTS:
                    self.notify(f"showing the first {MAX_CHARTS} of {len(picked)} metrics")
                self._set(metrics=tuple(picked[:MAX_CHARTS]))

        self.app.push_screen(PickScreen(f"Metrics to chart (up to {MAX_CHARTS})",
                                        [(k, k) for k in keys], list(self.opts.metrics),
                                        multi=True), done)
