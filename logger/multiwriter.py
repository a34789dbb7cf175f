"""Several writers of one run (DDP ranks sharing an id, a resume while the original runs).

Each writer (segment) keeps its own History; readers show one merged History whose rows are
laid out in a total order: (resume generation, segment name, position in the segment). So
every reader shows the same value where two writers logged a key at one step (the later
writer's), whichever file it read first, and each writer's rows stay readable on their own.
"""

from __future__ import annotations

from .history import History


def merge(histories: list[History], paths: dict[str, tuple[str, ...]], keep: bool = True) -> History:
    """One history of several writers' (segments'), in the order given: a total order.

    Rows are laid out writer after writer, so where two writers logged a key at one step,
    the later writer in that order wins, whichever file a reader happened to read first;
    every writer's own rows stay readable from its own History. Array copies throughout:
    ~0.1 s for 2 writers x 100k rows x 8 keys.
    """
    out = History(paths, keep)
    out._writers = histories
    base = 0
    top: int | None = None
    for h in histories:
        for key, col in h.columns.items():
            if len(col):
                out._column(key).extend_from(col, base)
        if h.max_step is not None:
            # Rows not past every earlier row's step: the writer's own, and those at or
            # below the steps of the writers before it.
            if top is None or (h.steps[0] > top and h.rewritten == 0):
                out.rewritten += h.rewritten
            else:
                running = top
                for step in h.steps:
                    if step <= running:
                        out.rewritten += 1
                    else:
                        running = step
            top = h.max_step if top is None else max(top, h.max_step)
        out.steps.extend(h.steps)
        out.times.extend(h.times)
        out.dropped += h.dropped
        base += len(h.steps)
    out.max_step = top
    return out


