"""runwatch's logger: W&B's calls, written to local append-only event files."""
