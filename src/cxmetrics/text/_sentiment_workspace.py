"""The workspace's own sentiment model (issue 13 item 2, docs/text.md): learnt from its survey
comments weakly labelled by their scores (or from a labelled file), kept in text_models, and
used from then on for every customer message; or the shipped model again.

    texts, labels = survey_comments(ws)
    kept = keep_sentiment_model(ws, train_sentiment(texts, labels), origin="survey comments")
    kept.model_id, kept.before, kept.after, kept.agreement   # the labels' shares before and after
    use_default_sentiment(ws)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cxmetrics.errors import UserError
from cxmetrics.store import rollback
from cxmetrics.text._sentiment_facts import DEFAULT
from cxmetrics.text._sentiment_train import LABELS, SentimentModel
from cxmetrics.text._store import TextRefresh, enabled, refresh_text, save_model

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

# A model the whole workspace is scored with must know every class: trained without neutral
# messages it would call every question a complaint or a compliment. Ten of each is the least
# for its 5-fold cross-validated figures to mean anything (two per held-out fold).
MIN_PER_CLASS = 10

# Survey answers speak for the customer's feeling: CSAT and NPS (CES measures effort, ESAT
# is the employees'). The surveys metric source's top and bottom box read any scale: on 1-5,
# 1-2 negative, 3 neutral, 4-5 positive; NPS 0-6 (detractors) negative, 7-8 neutral,
# 9-10 (promoters) positive; good/bad has no neutral.
WEAK_LABEL_KINDS = ("csat", "nps")
_BEFORE = "_tx_sentiment_before"  # the labels before a change of model, to say what it changed


def survey_comments(ws: Workspace) -> tuple[list[str], list[str]]:
    """The workspace's distinct CSAT and NPS survey comments with a score, each with its weak
    label from the scores of the answers that wrote it: the survey's bottom box negative, top
    box positive, between neutral.

    A comment written in several answers ("Thanks!", a template) is one text, labelled as
    most of them are (left out on a tie) and written as its first answer wrote it: repeated,
    it would sit on both sides of every cross-validation split and make the figures look
    better than the model is."""
    from cxmetrics._workspace import translate_errors
    from cxmetrics.metrics._sources import SOURCES

    ws.refresh()  # the surveys source reads the ticket facts (a spam ticket's answers are left out)
    kinds = ", ".join(f"'{k}'" for k in WEAK_LABEL_KINDS)
    with translate_errors():
        rows = ws.con.execute(f"""
            WITH answers AS (
                SELECT trim(comment) AS text, lower(regexp_replace(trim(comment), '\\s+', ' ', 'g')) AS key,
                       CASE WHEN bottom_box THEN 'negative' WHEN top_box THEN 'positive' ELSE 'neutral' END AS label,
                       source, response_id
                FROM ({SOURCES['surveys'].sql}) s
                WHERE kind IN ({kinds}) AND score IS NOT NULL AND nullif(trim(comment), '') IS NOT NULL
            ),
            votes AS (
                SELECT key, label, count(*) AS n, arg_min(text, (source, response_id)) AS text,
                       min((source, response_id)) AS first
                FROM answers GROUP BY key, label
            ),
            ranked AS (
                SELECT *, rank() OVER (PARTITION BY key ORDER BY n DESC) AS r,
                       count(*) OVER (PARTITION BY key, n) AS tied
                FROM votes
            )
            SELECT text, label FROM ranked WHERE r = 1 AND tied = 1 ORDER BY first""").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


_MORE_COMMENTS = ("Import more survey answers with comments, or train from a labelled file: "
                  "`cxmetrics text train-sentiment FILE --column TEXT --label LABEL`.")


def require_enough(labels: Sequence[str | None], what: str, fix: str = _MORE_COMMENTS) -> dict[str, int]:
    """The count of each class; a UserError naming the counts when any class has fewer than
    MIN_PER_CLASS (`what` says where the labels came from, `fix` what to do, for the message)."""
    counts = Counter(label for label in labels if label is not None)
    unknown = sorted(set(counts) - set(LABELS))
    if unknown:  # say so, not "0 negative": the labels are there, under other names
        raise UserError(f"Unknown sentiment label(s) {unknown[:5]} in {what}: labels must be one of "
                        f"{', '.join(LABELS)} (map your own labels to these first).")
    per_class = {label: counts.get(label, 0) for label in LABELS}
    short = [label for label, n in per_class.items() if n < MIN_PER_CLASS]
    if short:
        listing = ", ".join(f"{n} {label}" for label, n in per_class.items())
        raise UserError(
            f"Too few labelled texts to learn a sentiment model the workspace can use ({what}): {listing}; at least "
            f"{MIN_PER_CLASS} of each class are needed ({', '.join(short)} short). {fix}")
    return per_class


@dataclass(frozen=True)
class Rescored:
    """What changing the workspace's sentiment model did to its customer messages: the share
    of each label before and after, and the share of messages whose label stayed the same
    (None when there are none). A trained model that disagrees with the one before on most
    messages deserves a look: survey comments may not read like the customers' messages."""

    model_id: str  # 'default' for the shipped model
    messages: int
    before: dict[str, float]
    after: dict[str, float]
    agreement: float | None
    refresh: TextRefresh


def keep_sentiment_model(ws: Workspace, model: SentimentModel, *, origin: str,
                         counts: dict[str, int] | None = None) -> Rescored:
    """Keep `model` in the workspace as its sentiment model and score every customer message
    with it again. If the scoring fails, the previous model stays the one in use and the facts
    stay as they were. `origin` says what it learnt from (shown by `cxmetrics text status`);
    `counts` the number of texts of each class."""
    missing = [label for label in LABELS if label not in model.labels]
    if missing:
        raise UserError(f"This sentiment model never saw a {' or '.join(missing)} text, so it would never say so: "
                        "the workspace's model must be trained on texts of all three classes.")
    params: dict[str, Any] = {
        "origin": origin, "n_trained": model.n_trained, "per_class": counts,
        "cv_accuracy": model.cv_accuracy, "cv_macro_f1": model.cv_macro_f1,
    }
    payload = model.to_json().encode()
    return _switch(ws, lambda: save_model(ws.con, "sentiment", params, payload))


def use_default_sentiment(ws: Workspace) -> Rescored:
    """Go back to the shipped sentiment model: the workspace's trained models are kept but no
    longer used, and every customer message is scored again."""

    def off() -> str:
        ws.con.execute("UPDATE text_models SET active = false WHERE kind = 'sentiment'")
        return DEFAULT

    return _switch(ws, off)


def _switch(ws: Workspace, change: Callable[[], str]) -> Rescored:
    """Make `change` (which returns the new model's id) and score every message again, in one
    transaction: if the scoring fails, the change is undone with it."""
    con = ws.con
    with ws._write_lock:
        # the facts and text facts up to date with the old model first: the labels before
        # the change are then every message's
        ws.refresh()
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_BEFORE} AS SELECT source, event_id, label FROM message_sentiment")
        try:
            made: list[str] = []
            # Only the sentiment step when the text layer is on; when it is not yet, every
            # step: a refresh marks the imports done for all steps, so one that ran alone
            # would leave the other steps' facts of those tickets unwritten for good.
            steps = ("sentiment",) if enabled(con) else None
            done = refresh_text(ws, full=True, steps=steps, before=lambda _con: made.append(change()))
            if not made:  # no ticket to score (the hook runs only when there are): the change alone
                made.append(_in_transaction(ws, change))
            return _compare(ws, made[0], done)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {_BEFORE}")


def _compare(ws: Workspace, model_id: str, done: TextRefresh) -> Rescored:
    shares = "CASE WHEN count(*) > 0 THEN count(*) FILTER (WHERE label = '{0}') / count(*) END"
    cols = ", ".join(shares.format(label) for label in LABELS)
    before = ws.con.execute(f"SELECT {cols} FROM {_BEFORE}").fetchall()[0]
    after = ws.con.execute(f"SELECT count(*), {cols} FROM message_sentiment").fetchall()[0]
    agreement = ws.con.execute(f"""
        SELECT avg(CAST(b.label = m.label AS DOUBLE)) FROM message_sentiment m
        JOIN {_BEFORE} b ON b.source = m.source AND b.event_id = m.event_id""").fetchall()[0][0]
    return Rescored(model_id, int(after[0]),
                    {label: v for label, v in zip(LABELS, before, strict=True) if v is not None},
                    {label: v for label, v in zip(LABELS, after[1:], strict=True) if v is not None},
                    agreement, done)


def _in_transaction(ws: Workspace, work: Any) -> Any:
    from cxmetrics._workspace import translate_errors

    with translate_errors():
        ws.con.execute("BEGIN TRANSACTION")
        try:
            out = work()
            ws.con.execute("COMMIT")
        except BaseException:
            rollback(ws.con)
            raise
    return out
