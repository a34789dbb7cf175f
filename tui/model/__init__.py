"""What the app shows, computed without Textual or Rich (tests/test_tui_structure.py checks):
the RunStore and its RunView snapshots, the table model and its typed columns, chart series
and plot data, run info, statistics. Screens and widgets render it; tests drive it directly."""
