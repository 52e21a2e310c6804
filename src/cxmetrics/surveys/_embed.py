"""Embeds: rating links for a help desk's own solve e-mail, and the route they open.

A help desk that already e-mails the customer when a ticket is solved can carry the rating
links itself: `snippet(ws, "csat_embed", helpdesk="zendesk")` gives HTML to paste into that
e-mail's template, with the help desk's placeholders for the ticket and its requester. Each
link opens `/s/e/SURVEY/TICKET?r=REQUESTER&score=N`, which checks the ticket, finds or makes
its send (the same send id the rules would make), and redirects to the signed page
`/s/TOKEN?score=N`: from there on it is an ordinary survey link.

Embeds are weaker than signed links: the ticket and requester ids are in the mail, so whoever
knows both can open the page. What limits it (docs/surveys.md, "Embeds"): the survey must be
an enabled definition with `trigger = "embed"`; the ticket must exist, not be excluded, be
solved, and `r` must be its requester (the requester id, or the customer's e-mail address);
one send per ticket per definition; an answer is given once and edited only in its window;
and the page's rate limits hold.

>>> html_ = snippet_html("csat_embed", "https://cx.example.com", "zendesk", [(1, "1"), (2, "2")])
>>> 'href="https://cx.example.com/s/e/csat_embed/{{ticket.id}}?r={{ticket.requester.id}}&amp;score=2"' in html_
True
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from cxmetrics.errors import UserError
from cxmetrics.surveys._config import SurveysConfig, SurveysConfigError, Trigger, load_config
from cxmetrics.surveys._i18n import text
from cxmetrics.surveys._tokens import make_token

#: the help desks' placeholders for the ticket id and its requester, as their mail templates
#: write them (Zendesk: ticket.id and ticket.requester.id; Freshdesk has no requester id
#: placeholder in its e-mail notifications, so its link carries the requester's e-mail address)
HELPDESKS: dict[str, tuple[str, str]] = {
    "zendesk": ("{{ticket.id}}", "{{ticket.requester.id}}"),
    "freshdesk": ("{{ticket.id}}", "{{ticket.requester.email}}"),
    "generic": ("{ticket_id}", "{requester_id}"),
}


class EmbedError(UserError):
    """An embed link that opens nothing; `reason` is survey (no such embed survey) or
    ticket (the ticket does not match), each with its own page."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _link_style(colour: str) -> str:
    # inline styles: a mail client drops <style> blocks and external sheets
    return (f"display:inline-block;min-width:36px;padding:8px 10px;margin:2px;border:1px solid {colour};"
            f"border-radius:6px;color:{colour};text-decoration:none;font-weight:bold;text-align:center")


def snippet_html(survey: str, base_url: str, helpdesk: str, scores: list[tuple[int, str]], *,
                 question: str = "", colour: str = "#2563eb") -> str:
    """The HTML block: the question, then one link per (score, label)."""
    ticket, requester = HELPDESKS[helpdesk]
    style = html.escape(_link_style(colour))
    links = []
    for value, label in scores:
        href = f"{base_url.rstrip('/')}/s/e/{survey}/{ticket}?r={requester}&score={value}"
        links.append(f'  <a href="{html.escape(href)}" style="{style}">{html.escape(label)}</a>')
    head = [f"<p>{html.escape(question)}</p>"] if question else []
    return "\n".join([*head, "<p>", *links, "</p>"])


def snippet(ws: Any, survey: str, *, helpdesk: str = "zendesk", base_url: str | None = None,
            lang: str | None = None, config: SurveysConfig | None = None) -> str:
    """The HTML to paste into `helpdesk`'s solve e-mail template for embed survey `survey`."""
    if helpdesk not in HELPDESKS:
        raise UserError(f"helpdesk '{helpdesk}' is not one of {', '.join(HELPDESKS)} (generic uses {{ticket_id}} "
                        "and {requester_id}: replace them with your help desk's placeholders).")
    cfg = config if config is not None else load_config(ws.path)
    s = cfg.survey(survey)
    if s.trigger is not Trigger.EMBED:
        raise SurveysConfigError(f"survey '{survey}' has trigger = \"{s.trigger.value}\"; an embed snippet is for a "
                                 "survey with trigger = \"embed\" (set it in surveys.toml).")
    if base_url is None:
        from cxmetrics.surveys._sends import base_url as server_url

        base_url = server_url(ws, cfg)
    lang = lang or cfg.default_language
    brand = cfg.branding.name
    question = s.question.get(lang, "").replace("{brand}", brand) or text(lang, f"kinds.{s.kind}.question", brand=brand)
    if s.scale == "good/bad":
        scores = [(1, text(lang, "scale.good")), (0, text(lang, "scale.bad"))]
    else:
        lo, hi = s.scale_range
        scores = [(v, str(v)) for v in range(lo, hi + 1)]
    body = snippet_html(s.name, base_url, helpdesk, scores, question=question, colour=cfg.branding.colour)
    return f"<!-- cxmetrics survey '{s.name}' ({s.kind} {s.scale}) for {helpdesk}: paste into the solve e-mail -->\n{body}\n"


def embed_token(ws: Any, survey: str, ticket_id: str, requester: str, *, now: datetime,
                config: SurveysConfig | None = None) -> tuple[str, bool]:
    """Check an embed link and return a token for its send (found, or made as the rules
    would make it) and whether the send is new; EmbedError when the survey or the ticket
    does not match (nothing is stored then)."""
    cfg = config if config is not None else load_config(ws.path)
    s = next((x for x in cfg.surveys if x.name == survey), None)
    if s is None or not s.enabled or s.trigger is not Trigger.EMBED:
        raise EmbedError("survey", f"'{survey[:64]}' is not an enabled survey with trigger = \"embed\".")
    from cxmetrics.surveys import _rules, _sends

    rows = ws.con.execute(f"SELECT source, ticket_id, customer_id, address, excluded, solved_now "
                          f"FROM ({_rules.ticket_sql(cfg)}) WHERE ticket_id = ? AND (? IS NULL OR source = ?)",
                          [ticket_id, s.source, s.source]).fetchall()
    who = (requester or "").strip()
    # a help desk may put an address into the link unencoded: its '+' then arrives as a space
    emails = {who.lower(), who.replace(" ", "+").lower()}
    # the requester must match: its id, or the customer's e-mail address (case-insensitive)
    matching = [r for r in rows if who and (r[2] == who or (r[3] is not None and r[3].lower() in emails))]
    if len(matching) != 1:
        raise EmbedError("ticket", f"ticket '{ticket_id[:64]}' with that requester is not in this workspace"
                         + (" (or is in several sources: set the survey's source)" if len(matching) > 1 else "") + ".")
    source, tid, _, _, excluded, solved_now = matching[0]
    if excluded or not solved_now:
        raise EmbedError("ticket", f"ticket '{tid}' is {'excluded (spam, deleted or merged)' if excluded else 'not solved'}.")
    with ws._write_lock:
        before = ws.con.execute("SELECT count(*) FROM survey_sends").fetchall()[0][0]
        row = _sends.create_send(ws, s, source=source, ticket_id=tid, trigger=Trigger.EMBED, delivery="embed",
                                 now=now, config=cfg)
        created = ws.con.execute("SELECT count(*) FROM survey_sends").fetchall()[0][0] != before
        expires = now + timedelta(seconds=cfg.token_ttl_s)
        return make_token(ws.con, row["send_id"], expires, now), created
