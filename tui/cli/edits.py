"""`runwatch tag` and `runwatch note`: edit a run's tags and notes, as the app does.

Each edit is a new editor segment in the run's directory (logger/edit.py); the training
script's files are never touched.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from logger.edit import EditError, edit_notes, edit_tags
from logger.rundata import RunData
from logger.textsafe import safe_text, without_surrogates

from ..fmt import short
from .common import CliError, open_run
from .parser import ROOT_HELP, RUN_HELP, Command


def _stored_id(r: RunData) -> str:
    """The id an editor segment records. A run directory whose name is not UTF-8 has no id
    msgpack can carry; the reader knows a run by its directory, so its escape will do."""
    return without_surrogates(r.id)


def _who(r: RunData) -> str:
    return f"{short(r.project + '/' + r.name, 60)} ({short(r.id, 40)})"


# -- tag ------------------------------------------------------------------------------------
def configure_tag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("changes", nargs="*", metavar="+TAG|-TAG", help="tags to add or remove")


def parse_tag_changes(changes: list[str]) -> tuple[list[str], list[str]]:
    """`+a b -c` -> (["a", "b"], ["c"])."""
    add: list[str] = []
    remove: list[str] = []
    for change in changes:
        if change.startswith("-"):
            target, tag = remove, change[1:]
        else:
            target, tag = add, change[1:] if change.startswith("+") else change
        if not tag.strip():
            raise CliError(f"tag change {safe_text(change)!r} names no tag: write +TAG or -TAG")
        target.append(tag)
    return add, remove


def cmd_tag(ref: str, root_arg: str | None, changes: list[str], out: TextIO) -> int:
    add, remove = parse_tag_changes(changes)
    _reader, r = open_run(ref, root_arg)
    tags = list(r.tags)
    if add or remove:
        try:
            edit_tags(r.dir, _stored_id(r), add, remove)
        except (EditError, ValueError, TypeError) as exc:
            raise CliError(safe_text(exc)) from None
        tags = [t for t in tags if t not in remove]
        tags += [t.strip() for t in add if t.strip() not in tags]
    shown = ", ".join(short(t, 60) for t in tags) or "(none)"
    out.write(f"{_who(r)}: tags {shown}\n")
    return 0


TAG = Command("tag", "add (+tag) or remove (-tag) a run's tags", """\
  runwatch tag brisk-otter-7 +baseline -draft
  runwatch tag brisk-otter-7 best                  (a bare word adds)
  runwatch tag brisk-otter-7                       print its tags""", configure_tag,
              lambda args, out: cmd_tag(args.run, args.root, args.changes, out),
              description="Saved as a new editor segment in the run's directory, exactly as the "
                          "TUI does;\nthe training script's files are never touched.",
              words=True, valued=("--root",))


# -- note -----------------------------------------------------------------------------------
def configure_note(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("--append", action="store_true", help="add a line to the notes instead of replacing them")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("text", nargs="*", metavar="TEXT", help="the notes; - reads them from stdin")


def cmd_note(ref: str, root_arg: str | None, words: list[str], append: bool, out: TextIO) -> int:
    text = sys.stdin.read() if words == ["-"] else " ".join(words)
    _reader, r = open_run(ref, root_arg)
    if append and r.notes:
        text = r.notes.rstrip("\n") + "\n" + text
    try:
        edit_notes(r.dir, _stored_id(r), text)
    except (EditError, ValueError, TypeError) as exc:
        raise CliError(safe_text(exc)) from None
    what = "notes cleared" if not text else f"notes saved ({len(text)} characters)"
    out.write(f"{_who(r)}: {what}\n")
    return 0


NOTE = Command("note", "set (or --append to) a run's notes", """\
  runwatch note brisk-otter-7 "lr too high: diverged at step 3k"
  runwatch note brisk-otter-7 --append "rerun with warmup"
  git log -1 --format=%B | runwatch note brisk-otter-7 -
  runwatch note brisk-otter-7 ""                   clear the notes""", configure_note,
               lambda args, out: cmd_note(args.run, args.root, args.text, args.append, out),
               words=True, flags=("--append",), valued=("--root",))
