"""`cxmetrics surveys ...`: define, send and link surveys, and see what went out.

The commands live beside what they drive: defining (`_define_cli.py`), sending and
linking (`_send_cli.py`), collecting and embedding (`_collect_cli.py`); this module
only gathers them into one group.
"""

from __future__ import annotations

import click

from cxmetrics.surveys import _collect_cli, _define_cli, _send_cli


@click.group("surveys")
def surveys_group() -> None:
    """Send CSAT, CES and NPS surveys and collect the answers (docs/surveys.md)."""


for _module in (_define_cli, _send_cli, _collect_cli):
    for _command in _module.COMMANDS:
        surveys_group.add_command(_command)
