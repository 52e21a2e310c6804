"""The survey e-mail: plain text plus an HTML alternative, in the customer's language.

The HTML is written for every mail client: tables and inline styles only, no scripts, no
style sheets, no remote images (the branding logo travels inside the message, as an inline
`cid:` image). Every value is escaped by Jinja's autoescape. The scale is a row of links,
one per score, each opening the survey page with that score selected (`/s/TOKEN?score=N`):
the page records it only when the customer confirms, because mail scanners open every link
of a message (docs/surveys.md). There is no List-Unsubscribe: the mail is about one ticket
(or one relationship cycle), and its footer says so.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from cxmetrics.surveys._config import Survey, SurveysConfig
from cxmetrics.surveys._i18n import text
from cxmetrics.surveys._tokens import survey_url

LOGO_CID = "survey-logo"


@dataclass(frozen=True)
class MailInput:
    """What one survey e-mail says: the send (a survey_requests row), the ticket's subject
    and the customer's name when known, and the link's token."""

    request: dict[str, Any]
    token: str
    expires_at: datetime
    reminder: bool = False
    ticket_subject: str | None = None
    customer_name: str | None = None


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("cxmetrics.surveys", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


@cache
def _text_env() -> jinja2.Environment:
    # plain text is not HTML: escaping it would show "&amp;" to the reader
    return jinja2.Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True,  # noqa: S701
                              undefined=jinja2.StrictUndefined)


# the plain-text part (kept here: it is short, and package data ships only *.html templates)
_TEXT = """{{ greeting }}

{{ intro }}
{% if ticket_subject %}
{{ ticket_subject_label }}: {{ ticket_subject }}
{% endif %}

{{ question }}
{% if not good_bad %}
({{ choices[0].score }} = {{ low }}, {{ choices[-1].score }} = {{ high }})
{% endif %}

{% for c in choices %}
  {{ c.label }}: {{ c.url }}
{% endfor %}

{{ one_click }}
{{ open_page }}: {{ page_url }}
{{ expires }}

{{ signature }}

--
{{ why }}
"""


def question(survey: Survey, lang: str, brand: str) -> str:
    """The definition's own question in `lang`, else the shipped wording in `lang` (never
    a question in another language than the rest of the mail)."""
    own = survey.question.get(lang)
    if own is not None:
        return own.replace("{brand}", brand)
    return text(lang, f"kinds.{survey.kind}.question", brand=brand)


def scores(survey: Survey, lang: str) -> list[tuple[int, str]]:
    """The one-click choices: (score, label), good before bad on a good/bad scale."""
    if survey.scale == "good/bad":
        return [(1, text(lang, "mail.good")), (0, text(lang, "mail.bad"))]
    lo, hi = survey.scale_range
    return [(n, str(n)) for n in range(lo, hi + 1)]


def _intro(request: dict[str, Any]) -> str:
    """The first sentence's key: "we recently solved your request" only when a solve sent it
    (a survey sent on demand may be about a ticket still open)."""
    if not request.get("ticket_id"):
        return "intro_relationship"
    return "intro_ticket" if request.get("trigger") == "solved" else "intro_request"


def context(survey: Survey, config: SurveysConfig, base_url: str, item: MailInput, *,
            logo: bool = False) -> dict[str, Any]:
    """Everything the two templates show, in the send's language."""
    r = item.request
    lang = r["language"] or config.default_language
    brand = config.branding.name
    ticket = r.get("ticket_id")
    values = {"brand": brand, "ticket": ticket or "", "name": item.customer_name or "",
              "date": f"{item.expires_at:%Y-%m-%d}"}

    def t(key: str) -> str:
        return text(lang, f"mail.{key}", **values)

    subject = t("subject_ticket" if ticket else "subject_relationship")
    if item.reminder:
        subject = f"{t('reminder_prefix')} {subject}"
    return {
        "lang": lang, "brand": brand, "colour": config.branding.colour, "logo_cid": LOGO_CID if logo else None,
        "subject": subject,
        "greeting": t("greeting_name") if item.customer_name else t("greeting"),
        "intro": t("reminder_intro") if item.reminder else t(_intro(r)),
        "ticket_subject": item.ticket_subject, "ticket_subject_label": t("ticket_subject"),
        "question": question(survey, lang, brand),
        "choices": [{"score": n, "label": label, "url": survey_url(base_url, item.token, n)}
                    for n, label in scores(survey, lang)],
        "good_bad": survey.scale == "good/bad",
        "low": "" if survey.scale == "good/bad" else text(lang, f"mail.low.{survey.kind}"),
        "high": "" if survey.scale == "good/bad" else text(lang, f"mail.high.{survey.kind}"),
        "one_click": t("one_click"), "open_page": t("open_page"), "link_fallback": t("link_fallback"),
        "page_url": survey_url(base_url, item.token),
        "expires": t("expires"), "why": t("why_ticket" if ticket else "why_relationship"), "signature": t("signature"),
    }


def build(survey: Survey, config: SurveysConfig, base_url: str, item: MailInput, *, sender: str,
          logo: Path | None = None, reply_to: str | None = None) -> EmailMessage:
    """The message for one send (invite, or its reminder), addressed to the send's address."""
    ctx = context(survey, config, base_url, item, logo=logo is not None)
    msg = EmailMessage()
    msg["Subject"] = ctx["subject"]
    msg["From"] = sender
    msg["To"] = _address(item.request["address"], item.customer_name)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid("survey", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
    msg["X-Cxmetrics-Survey"] = item.request["send_id"]
    msg.set_content(_text_env().from_string(_TEXT).render(ctx))
    msg.add_alternative(_env().get_template("mail.html").render(ctx), subtype="html")
    if logo is not None:
        ctype = mimetypes.guess_type(logo.name)[0] or "image/png"
        maintype, subtype = ctype.split("/", 1)
        html_part = msg.get_payload()[1]  # type: ignore[index]
        html_part.add_related(logo.read_bytes(), maintype=maintype, subtype=subtype, cid=f"<{LOGO_CID}>",
                              filename=logo.name)
    msg["Content-Language"] = ctx["lang"]  # last: setting the content drops Content-* headers
    return msg


def _address(address: str, name: str | None) -> str:
    """`Name <address>` (the name quoted as the header needs), or the bare address."""
    if not name:
        return address
    user, _, domain = address.rpartition("@")
    try:
        return str(Address(display_name=name, username=user, domain=domain))
    except (ValueError, IndexError):
        return address
