"""Messages that cross screens: the reading thread's news, carrying its data."""

from __future__ import annotations

from textual.message import Message

from .model.runview import RunView


class RunsChanged(Message):
    """New snapshots from the reading thread (path -> RunView), for `RunStore.apply`.

    Bursts fold into one message: a newer one takes the older one's snapshots under its own.
    """

    def __init__(self, views: dict[str, RunView]) -> None:
        super().__init__()
        self.views = views

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, RunsChanged):
            return False
        self.views.update(message.views)  # O(new): the older batch is usually the larger
        message.views = self.views
        return True


class ReadingStopped(Message):
    """The reading thread ended with an error the app should show."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
