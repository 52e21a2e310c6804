"""The end of `cxmetrics demo`: the text layer over the demo's messages (docs/text.md).

Topics are discovered with k = the demo's nine help-desk topics, so the Topics page and
`--by discovered_topic` have data; discovery then scores every customer message's sentiment,
every agent reply's signals and every resolution's consistency in the same pass. On a large
demo the topics are fitted on the tickets of the last weeks (about `FIT_TICKETS` of them, every
help-desk topic occurs all year) and every other ticket is assigned to them, which keeps the
added time small. Without scikit-learn (the `text` extra) the demo says how to add it, scores
sentiment and replies, and goes on.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from cxmetrics._output import metric_table_for_screen, render
from cxmetrics._workspace import Workspace
from cxmetrics.demo import DemoConfig
from cxmetrics.demo._text import TOPICS

FIT_TICKETS = 12_000  # topics are fitted on about this many of the newest tickets
TEXT_HEADLINE = ["sentiment_mean", "sentiment_negative", "sentiment_shift", "reply_personalised",
                 "reply_empathetic", "reply_thorough", "consistency", "answers_apart"]


def fit_start(config: DemoConfig) -> dt.datetime | None:
    """Where the tickets the topics are fitted on start (None: the whole window).

    >>> fit_start(DemoConfig(tickets=5_000)) is None
    True
    >>> fit_start(DemoConfig(tickets=120_000)).date()
    datetime.date(2026, 9, 25)
    """
    if config.tickets <= FIT_TICKETS:
        return None
    first, last = config.window()
    return last - (last - first) * (FIT_TICKETS / config.tickets)


def text_layer(ws: Workspace, config: DemoConfig, echo: Callable[[str], None] = print) -> list[str]:
    """Discover the demo's topics and score its texts; returns the summary's lines."""
    from cxmetrics.errors import MissingDependencyError
    from cxmetrics.text import discover_tickets, refresh
    from cxmetrics.text._store import active_model

    started = time.perf_counter()
    try:
        import sklearn  # noqa: F401  (the text extra; checked first so nothing is half done)
    except ImportError:
        echo("  topic discovery needs scikit-learn, which this install leaves out: pip install 'cxmetrics[text]' "
             "(then `cxmetrics topics discover`); scoring sentiment and replies without it")
        done = refresh(ws, full=True)
        return [f"Text layer in {time.perf_counter() - started:.1f} s: {done.tickets:,} tickets' texts scored "
                "(no topics: scikit-learn is missing)", "", *_headline(ws)]
    start = fit_start(config)
    try:
        found = discover_tickets(ws, k=len(TOPICS), start=start, seed=config.seed,
                                 refit=active_model(ws.con, "topics") is not None)
    except MissingDependencyError as exc:  # an extra the discovery needs beyond scikit-learn
        echo(f"  {exc}")
        return []
    seconds = time.perf_counter() - started
    sample = f"the {found.clustered:,} newest" if start is not None else f"all {found.clustered:,}"
    lines = [f"Text layer in {seconds:.1f} s: {found.k} topics discovered from {sample} tickets' texts and "
             f"{found.assigned:,} tickets assigned; sentiment, answer signals and consistency scored.",
             "Discovered topics (cxmetrics topics discover --refit to re-cluster):"]
    lines += [f"  {t.id:>2}  {t.size:>7,}  {t.name}" for t in found.topics]
    return [*lines, "", *_headline(ws)]


def _headline(ws: Workspace) -> list[str]:
    table = ws.metrics(TEXT_HEADLINE).table
    return ["Text metrics (whole year):", render(metric_table_for_screen(table))]
