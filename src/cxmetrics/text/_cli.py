"""`cxmetrics text ...`: the text layer's commands (the functions live in cxmetrics.text)."""

from __future__ import annotations

import click


@click.group("text")
def text_group() -> None:
    """Text analytics: sentiment and topics of any text column (docs/text.md)."""
