"""A RunInfo (tui/model/run_info.py) as Rich Text for the detail screen's tabs.

Every string in a RunInfo is already safe; here it is only wrapped in Text (never markup),
with the labels in bold.
"""

from __future__ import annotations

from rich.text import Text

from ..model.run_info import Pairs, RunInfo


def pairs_text(pairs: Pairs, empty: str = "") -> Text:
    if not pairs:
        return Text(empty)
    text = Text()
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        text.append(f"{key:<{width}}  ", style="bold")
        text.append(value)
        text.append("\n")
    return text


def overview_text(info: RunInfo) -> Text:
    text = pairs_text(info.overview)
    for warning in info.warnings:
        text.append(f"\n! {warning}\n", style="bold")
    if info.rewritten:
        text.append(f"\n{info.rewritten}\n")
    text.append("\nnotes\n", style="bold")
    text.append(info.notes + "\n")
    if info.error:
        text.append("\nerror\n", style="bold")
        text.append(info.error + "\n")
    return text


def files_text(info: RunInfo) -> Text:
    text = Text()
    for title, lines in (("artifacts\n", info.artifacts),
                         ("\nartifacts used\n", info.used),
                         ("\nfiles (saved under files/)\n", info.files)):
        text.append(title, style="bold")
        if not lines:
            text.append("  none\n")
        for line in lines:
            text.append(f"  {line}\n")
    return text


def members_text(lines: tuple[str, ...]) -> Text:
    """A group's runs, one line each."""
    text = Text()
    for line in lines:
        text.append(line + "\n")
    return text
