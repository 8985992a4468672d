"""`python -m ops <command>`: see ops/cli.py."""

from ops.cli import main

raise SystemExit(main())
