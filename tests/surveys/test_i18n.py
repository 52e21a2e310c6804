"""Translations are complete for every language offered (issue 16, acceptance): every locale
file has exactly the keys of English, every placeholder of an English text appears in its
translation (and no other), and no file is still a placeholder copy of another language."""

from __future__ import annotations

import string

import pytest

from cxmetrics.surveys._config import LANGUAGES
from cxmetrics.surveys._i18n import messages, text

OTHERS = [lang for lang in LANGUAGES if lang != "en"]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", OTHERS)
def test_every_language_has_exactly_the_english_keys(lang: str) -> None:
    en, other = set(messages("en")), set(messages(lang))
    assert sorted(en - other) == [], f"{lang}.toml lacks these keys of en.toml"
    assert sorted(other - en) == [], f"{lang}.toml has keys en.toml does not"


@pytest.mark.parametrize("lang", OTHERS)
def test_every_placeholder_of_english_appears_in_the_translation(lang: str) -> None:
    en, other = messages("en"), messages(lang)
    wrong = {key: (sorted(placeholders(en[key])), sorted(placeholders(other[key])))
             for key in en if key in other and placeholders(en[key]) != placeholders(other[key])}
    assert wrong == {}


@pytest.mark.parametrize("lang", OTHERS)
def test_the_page_texts_are_translated_not_copied(lang: str) -> None:
    """The survey page's own texts (not [mail], written with the sending side) differ from
    English and from German in every language but those two: a copied file would pass the
    key comparison, so check that the words are the language's own."""
    en, other, de = messages("en"), messages(lang), messages("de")
    mine = [k for k in en if k.split(".")[0] in ("kinds", "scale", "page", "errors")]
    assert len(mine) > 40
    same_as_en = [k for k in mine if other[k] == en[k] and placeholders(en[k]) != {"score", "max"}
                  and en[k] not in ("{score} out of {max}",)]
    assert same_as_en == []
    if lang != "de":
        copied = [k for k in mine if other[k] == de[k]]
        assert copied == []
    assert not text(lang, "language_name").startswith("(")


def test_the_nps_anchors_read_as_the_issue_asks() -> None:
    assert (text("en", "kinds.nps.low"), text("en", "kinds.nps.high")) == ("Not at all likely", "Extremely likely")
    assert text("de", "kinds.nps.question", brand="Acme") == \
        "Wie wahrscheinlich ist es, dass Sie Acme einem Freund oder Kollegen empfehlen?"
    assert text("fr", "scale.point_anchor", score=0, max=10, anchor="Pas du tout probable") == \
        "0 sur 10 : Pas du tout probable"
