"""`reports.toml`: the reports a workspace mails, to whom, when, and through which server.

The file lives in the workspace folder next to `alerts.toml`. It names no SMTP server of its
own: `[email] destination` names an e-mail destination of `alerts.toml`, whose host, port,
security, login (from the environment) and retry rules the reports use (default: the only
e-mail destination there).

>>> cfg = ReportsConfig.from_dict({"report": [{"name": "weekly", "to": ["lead@acme.example"]}]})
>>> r = cfg.reports[0]
>>> r.kind.value, r.send.weekday, r.send.minute, r.format.value, cfg.interval_s
('weekly', 0, 480, 'pdf', 60.0)
>>> parse_send("fri 17:30")
SendTime(weekday=4, minute=1050)
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxmetrics.alerts._config import parse_duration
from cxmetrics.errors import SettingsError

CONFIG_FILE = "reports.toml"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SEND = re.compile(r"^([a-z]+)\s+(\d{1,2}):(\d{2})$")


class ReportsConfigError(SettingsError):
    """`reports.toml` is malformed; the message names the key and the fix."""


class ReportKind(StrEnum):
    """What a report covers."""

    WEEKLY = "weekly"  # the last complete ISO week (Monday to Sunday) against the week before


class ReportFormat(StrEnum):
    """What goes out: the HTML e-mail with its PDF attached, or the HTML e-mail alone."""

    PDF = "pdf"
    HTML = "html"


class SendTime(BaseModel):
    """When a weekly report goes out: a weekday (0 = Monday) and minutes after midnight,
    local to the report's time zone."""

    model_config = ConfigDict(frozen=True)
    weekday: int
    minute: int


def parse_send(text: str) -> SendTime:
    """`"monday 08:00"` (a weekday, full or its first three letters, and a 24-hour time)."""
    m = _SEND.match(str(text).strip().lower())
    if not m:
        raise ValueError(f"'{text}' is not a weekday and time; write e.g. \"monday 08:00\".")
    day, hh, mm = m.group(1), int(m.group(2)), int(m.group(3))
    found = [i for i, d in enumerate(_DAYS) if d == day or (len(day) == 3 and d.startswith(day))]
    if not found:
        close = difflib.get_close_matches(day, _DAYS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"'{day}' is not a weekday; use monday to sunday (or mon to sun).{hint}")
    if hh > 23 or mm > 59:
        raise ValueError(f"'{hh:02d}:{mm:02d}' is not a time of day; use 00:00 to 23:59.")
    return SendTime(weekday=found[0], minute=hh * 60 + mm)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_addresses(values: Any, key: str = "to") -> tuple[str, ...]:
    """E-mail addresses as a tuple; ValueError naming the one that is not an address."""
    items = (values,) if isinstance(values, str) else values
    if not isinstance(items, (list, tuple)) or not items:
        raise ValueError(f"{key} must list at least one e-mail address, e.g. [\"lead@acme.example\"].")
    for a in items:
        if not isinstance(a, str) or not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+", a.strip()):
            raise ValueError(f"'{a}' is not an e-mail address (write name@domain.example).")
    return tuple(a.strip() for a in items)


class Report(_Model):
    """One scheduled report (a `[[report]]` block)."""

    name: str
    kind: ReportKind = ReportKind.WEEKLY
    to: tuple[str, ...]
    send: SendTime = SendTime(weekday=0, minute=8 * 60)
    timezone: str | None = None  # default: the workspace's time zone
    format: ReportFormat = ReportFormat.PDF
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"'{v}' is not a report name: use lower-case letters, digits, _ and -, such as "
                             "\"weekly\" or \"weekly-leads\".")
        return v

    @field_validator("to", mode="before")
    @classmethod
    def _to(cls, v: Any) -> tuple[str, ...]:
        return check_addresses(v)

    @field_validator("send", mode="before")
    @classmethod
    def _send(cls, v: Any) -> Any:
        return v if isinstance(v, SendTime) else parse_send(v)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"'{v}' is not an IANA time zone; use a name such as \"Europe/Berlin\".") from None
        return v


class EmailSettings(_Model):
    """Which `alerts.toml` e-mail destination sends the reports, and who they come from."""

    destination: str | None = None  # default: the only e-mail destination of alerts.toml
    from_: str | None = Field(None, alias="from")  # default: the destination's from
    reply_to: str | None = None


class ReportsConfig(_Model):
    """A parsed `reports.toml`."""

    interval_s: float = Field(60.0, alias="interval")  # how often the server looks for reports due
    chromium: str | None = None  # the browser that prints the PDF; default /usr/bin/chromium, then PATH
    email: EmailSettings = EmailSettings()
    reports: tuple[Report, ...] = Field((), alias="report")

    @field_validator("interval_s", mode="before")
    @classmethod
    def _interval(cls, v: Any) -> float:
        s = parse_duration(v)
        if s < 1:
            raise ValueError(f"{v!r} is too short; the server looks for due reports at most once a second "
                             "(e.g. \"1m\").")
        return s

    @model_validator(mode="after")
    def _unique(self) -> ReportsConfig:
        seen: set[str] = set()
        for r in self.reports:
            if r.name in seen:
                raise ValueError(f"report name '{r.name}' is used twice; give each [[report]] its own name.")
            seen.add(r.name)
        return self

    def report(self, name: str) -> Report:
        """The schedule called `name`; ReportsConfigError (with the nearest name) if none."""
        for r in self.reports:
            if r.name == name:
                return r
        names = [r.name for r in self.reports]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ReportsConfigError(f"no report '{name}' in {CONFIG_FILE}.{hint} Defined: {', '.join(names) or 'none'}.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = CONFIG_FILE) -> ReportsConfig:
        """Validate `data` (a parsed TOML document)."""
        _check_keys(data, where)
        problem = None
        try:
            cfg = cls.model_validate(dict(data))
        except ValidationError as exc:
            problem = _explain(exc, where)
        if problem is not None:  # raised outside the handler: pydantic's frames do not follow it
            raise ReportsConfigError(problem)
        return cfg

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReportsConfig:
        """Read `reports.toml` at `path` (a file, or a workspace folder holding one); a
        workspace without the file schedules no report."""
        p = Path(path)
        if p.is_dir():
            p = p / CONFIG_FILE
        if not p.is_file():
            return cls()
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ReportsConfigError(f"{p} is not valid TOML: {exc}") from None
        return cls.from_dict(data, where=str(p))


_TOP = {"interval", "chromium", "email", "report"}
_REPORT_KEYS = {"name", "kind", "to", "send", "timezone", "format", "enabled"}
_EMAIL_KEYS = {"destination", "from", "reply_to"}


def _unknown(key: str, known: set[str], where: str, at: str) -> ReportsConfigError:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return ReportsConfigError(f"{where}: {at}unknown key '{key}'.{hint} Known: {', '.join(sorted(known))}.")


def _check_keys(data: Mapping[str, Any], where: str) -> None:
    for key in data:
        if key not in _TOP:
            raise _unknown(key, _TOP, where, "")
    email = data.get("email", {})
    if isinstance(email, Mapping):
        for key in email:
            if key not in _EMAIL_KEYS:
                raise _unknown(key, _EMAIL_KEYS, where, "[email]: ")
    reports = data.get("report", [])
    if not isinstance(reports, list):
        raise ReportsConfigError(f"{where}: report must be a list of tables: write [[report]] blocks.")
    for i, r in enumerate(reports):
        if isinstance(r, Mapping):
            for key in r:
                if key not in _REPORT_KEYS:
                    raise _unknown(key, _REPORT_KEYS, where, f"report[{i}] ({r.get('name', '?')}): ")


def _explain(exc: ValidationError, where: str) -> str:
    """One line per problem: the key's path as the file writes it, what is wrong, the fix."""
    lines = []
    for err in exc.errors():
        path = ""
        for p in err["loc"]:
            if isinstance(p, str) and p.startswith("function-"):
                continue
            path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
        path = re.sub(r"_s\b", "", path).replace("from_", "from").replace("reports[", "report[")
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            lines.append(f"{path} is missing; add it" + (" (the addresses to mail, e.g. to = [\"lead@acme.example\"])"
                                                         if path.endswith(".to") else ""))
            continue
        if err["type"] == "enum":
            msg = msg.replace("Input should be", "must be")
        lines.append(f"{path}: {msg.rstrip('.')}" if path else msg.rstrip("."))
    text = f"{where}: " + "; ".join(lines)
    return text if text.endswith("?") else text + "."


_CACHE: dict[Path, tuple[tuple[int, int], ReportsConfig]] = {}


def load_config(workspace: str | os.PathLike[str]) -> ReportsConfig:
    """The workspace's `reports.toml`, read again only when the file changes (the server
    calls this on every tick, so an edit takes effect without a restart)."""
    p = Path(workspace) / CONFIG_FILE
    try:
        st = p.stat()
    except FileNotFoundError:
        return ReportsConfig()
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(p)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    cfg = ReportsConfig.load(p)
    _CACHE[p] = (stamp, cfg)
    return cfg
