"""`python -m cxmetrics` runs the CLI."""

from __future__ import annotations

from cxmetrics.cli import main

main()
