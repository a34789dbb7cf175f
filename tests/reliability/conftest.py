"""The reliability suite: faults, hostile input and load against the logger and its reader.

CI runs the short forms. `pytest tests/reliability --long` runs the long ones: kill torture
500 times, a 30-minute soak, and many more hypothesis examples.
"""

from __future__ import annotations

import os

import pytest
import relkit


def pytest_configure(config: pytest.Config) -> None:
    relkit.LONG = bool(config.getoption("--long", default=False)) or os.environ.get("RUNWATCH_LONG") == "1"
