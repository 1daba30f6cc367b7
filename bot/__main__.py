"""`python -m bot`: the same as the `rolebot` command."""

from bot.cli import main

raise SystemExit(main())
