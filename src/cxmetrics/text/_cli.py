"""`cxmetrics text ...`: the text layer's commands (the functions live in cxmetrics.text)."""

from __future__ import annotations

import click


@click.group("text")
def text_group() -> None:
    """Text analytics: sentiment and topics of any text column (docs/text.md)."""


# topics (item 6): the command lives beside its library code
from cxmetrics.text._topics_cli import topics as _topics_command  # noqa: E402

text_group.add_command(_topics_command)

# sentiment (items 2 and 6): scoring and training commands beside their library code
from cxmetrics.text._sentiment_cli import sentiment_cmd, train_sentiment_cmd  # noqa: E402

text_group.add_command(sentiment_cmd)
text_group.add_command(train_sentiment_cmd)
