"""The exceptions cxmetrics raises.

    CxError                      base of everything below
    ├── UserError                you can fix this (bad argument, bad file, bad setting)
    │   ├── MappingError         a mapping file is wrong (also ValueError)
    │   ├── SettingsError        workspace settings are wrong (also ValueError)
    │   ├── ImportFileError      a file cannot be read at all (also ValueError)
    │   ├── UnknownNameError     a name is not known; suggests the closest (also KeyError)
    │   ├── AnswerTooLargeError  a metric request would answer too many cells; says how to narrow it
    │   ├── MissingDependencyError  an optional package is not installed; names the extra (also ImportError)
    │   └── ConnectorError       a help desk connection is not set up, or the help desk refused it
    ├── StoreError               the database failed (duckdb.Error translated at the boundary)
    └── InternalError            we have a bug: an invariant broke (please report it)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CxError(Exception):
    """Base of every cxmetrics error."""


class UserError(CxError):
    """Something the user can fix; the message says what."""


class MappingError(UserError, ValueError):
    """A mapping file (TOML) is malformed or names unknown things."""


class SettingsError(UserError, ValueError):
    """Workspace settings are malformed."""


class ConnectorError(UserError):
    """A help-desk connection cannot work as set up: no [connectors.VENDOR] settings, no
    credentials, or the help desk refused them; the message says what to set."""


class ImportFileError(UserError, ValueError):
    """A file cannot be imported at all (missing, unreadable, wrong format)."""


class UnknownNameError(UserError, KeyError):
    """A name (table, import kind, column) is not known."""

    def __init__(self, what: str, name: str, choices: Iterable[str], listing: str = "", *,
                 suggestion: str | None = None) -> None:
        self.what, self.name, self.choices = what, name, sorted(choices)
        # the caller may know better than spelling (a label, another tool's name for it)
        close = [suggestion] if suggestion else difflib.get_close_matches(name, self.choices, n=1)
        self.suggestion: str | None = close[0] if close else None
        hint = f" Did you mean '{close[0]}'?" if close else ""
        valid = f" Valid: {', '.join(self.choices)}." if len(self.choices) <= 20 or not listing else f" {listing}"
        super().__init__(f"Unknown {what} '{name}'.{hint}{valid}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class AnswerTooLargeError(UserError):
    """A metric request whose answer (groups x periods x metrics) would exceed the limit,
    refused before any query runs; `estimate` and `limit` are its cell counts."""

    def __init__(self, message: str, *, estimate: int, limit: int) -> None:
        super().__init__(message)
        self.estimate, self.limit = estimate, limit


class MissingDependencyError(UserError, ImportError):
    """An optional package a call needs is not installed; the message names the extra."""


class StoreError(CxError):
    """The database engine failed; the message carries the engine's own words."""


class InternalError(CxError):
    """An invariant of cxmetrics broke: a bug to report, not something the user can fix."""
