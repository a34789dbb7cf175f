"""What the app shows, computed without Textual: run snapshots, the table model, chart series,
statistics. Screens and widgets render it; tests drive it directly."""
