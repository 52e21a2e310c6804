"""The words of a survey in each offered language: `locales/<lang>.toml`.

Every file has the same keys (a test compares them), so a survey is never half translated.
`text(lang, "kinds.csat.question", brand="Acme")` formats a text with named values; the
caller escapes it for where it goes (Jinja does on the page and in the HTML mail).

>>> text("de", "language_name"), text("en", "language_name")
('Deutsch', 'English')
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from cxmetrics.surveys._config import LANGUAGES


@cache
def messages(lang: str) -> dict[str, str]:
    """Every text of `lang`, flattened to dotted keys (`mail.subject`, `page.submit`...)."""
    if lang not in LANGUAGES:
        raise KeyError(f"'{lang}' is not an offered language ({', '.join(LANGUAGES)})")
    raw = tomllib.loads(resources.files("cxmetrics.surveys").joinpath("locales", f"{lang}.toml")
                        .read_text(encoding="utf-8"))
    out: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(name + ".", value)
            else:
                out[name] = str(value)

    walk("", raw)
    return out


def text(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang`, with `{name}` placeholders filled from `values`."""
    template = messages(lang)[key]
    return template.format_map(values) if values else template
