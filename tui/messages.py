"""Messages that cross screens: the reading thread's news."""

from __future__ import annotations

from textual.message import Message


class RunsChanged(Message):
    """New snapshots are waiting in the Feed. Bursts fold into one (the data is in the Feed)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsChanged)


class FeedStopped(Message):
    """The reading thread ended with an error the screen should show."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
