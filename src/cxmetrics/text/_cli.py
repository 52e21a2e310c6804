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

# the text facts in the workspace (issue 13): refresh them, see what the layer holds
from cxmetrics.text._refresh_cli import refresh_cmd, status_cmd  # noqa: E402

text_group.add_command(refresh_cmd)
text_group.add_command(status_cmd)

# consistency of resolutions (item 3): per topic, per agent, the answers apart
from cxmetrics.text._consistency_cli import consistency_cmd  # noqa: E402

text_group.add_command(consistency_cmd)

# signals of a good answer (item 4): scoring replies in a file, beside its library code
from cxmetrics.text._signals_cli import signals_cmd  # noqa: E402

text_group.add_command(signals_cmd)
