"""`python -m tui` is the `runwatch` command."""

from .cli import main

raise SystemExit(main())
