"""`cxmetrics surveys embed SURVEY [--helpdesk zendesk|freshdesk|generic]`: the rating links to
paste into a help desk's solve e-mail (docs/surveys.md, "Embeds").

It reads only `surveys.toml` (and the running server's address when base_url is not set), so
it works while a server owns the workspace.
"""

from __future__ import annotations

from types import SimpleNamespace

import click

from cxmetrics._clitools import fail_cleanly, workspace_path
from cxmetrics.surveys._config import LANGUAGES
from cxmetrics.surveys._embed import HELPDESKS, snippet


@click.command("embed")
@click.argument("survey")
@click.option("--helpdesk", type=click.Choice(sorted(HELPDESKS)), default="zendesk", show_default=True,
              help="Whose placeholders the links carry for the ticket and its requester.")
@click.option("--base-url", "base_url", default=None,
              help="Where customers reach the survey page (default: base_url in surveys.toml, else the running "
                   "server's address).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="The language of the question and labels (default: default_language in surveys.toml).")
@click.pass_context
@fail_cleanly
def embed_command(ctx: click.Context, survey: str, helpdesk: str, base_url: str | None, lang: str | None) -> None:
    """Print the HTML rating links of embed survey SURVEY for a help desk's solve e-mail.

    Each link opens /s/e/SURVEY/TICKET?r=REQUESTER&score=N on the server, which checks the
    ticket (solved, not spam, that requester), makes its send and opens the survey page with
    the score selected; the customer confirms it there.
    """
    ws = SimpleNamespace(path=workspace_path(ctx))  # only the folder: surveys.toml and server.json
    click.echo(snippet(ws, survey, helpdesk=helpdesk, base_url=base_url, lang=lang), nl=False)


COMMANDS: list[click.Command] = [embed_command]
