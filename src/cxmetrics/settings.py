"""Workspace settings: one table of settings feeds the file, the CLI and the docs.

Settings live in `settings.toml` in the workspace folder. Unknown keys are an error
(a typo must not be silently ignored); missing keys take their defaults.

>>> Settings().timezone
'UTC'
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxmetrics.errors import SettingsError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("timezone", "UTC", "IANA time zone: naive timestamps in imports are read in it, and periods are bucketed in it"),
    Setting("currency", "EUR", "ISO 4217 code of costs that do not name one"),
    Setting("memory_limit", "1.5GB", "the most memory the engine may use before it spills to disk"),
    Setting("threads", "0", "engine threads; 0 means one per core"),
)


@dataclass(frozen=True)
class Settings:
    """A workspace's settings; immutable, replaced as a whole."""

    timezone: str = "UTC"
    currency: str = "EUR"
    memory_limit: str = "1.5GB"
    threads: str = "0"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"timezone '{self.timezone}' is not an IANA time zone; use a name such as 'Europe/Berlin' or 'UTC'."
            ) from None
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise SettingsError(f"currency '{self.currency}' is not a three-letter ISO 4217 code such as 'EUR'.")
        if not self.threads.isdigit():
            raise SettingsError(f"threads '{self.threads}' must be a whole number (0 = one per core).")

    @classmethod
    def load(cls, path: Path) -> Settings:
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc}") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        return cls(**{k: str(v) for k, v in data.items()})

    def save(self, path: Path) -> None:
        lines = ["# cxmetrics workspace settings"]
        for s in SETTINGS:
            lines.append(f"# {s.doc}")
            lines.append(f'{s.name} = "{getattr(self, s.name)}"')
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def with_(self, **changes: str) -> Settings:
        return replace(self, **changes)
