"""`surveys.toml`: the surveys a workspace sends, when, to whom, how they look and go out.

The file lives in the workspace folder next to `settings.toml` and `alerts.toml`. It names
no secret: the SMTP login is read from environment variables (`username_env`,
`password_env`), as in `alerts.toml`, or the `[email]` table names an e-mail destination
of `alerts.toml` and uses its server, security and login.

>>> cfg = SurveysConfig.from_dict({"surveys": [{"name": "csat", "kind": "csat", "delay": "2h"}]})
>>> s = cfg.survey("csat")
>>> s.scale, s.trigger.value, s.delay_s, cfg.throttle_s / 86400, cfg.token_ttl_s / 86400
('1-5', 'solved', 7200.0, 7.0, 30.0)
>>> s.where, s.include_bot_solved
({}, False)
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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxmetrics.alerts._config import EmailDestination, Security, parse_duration
from cxmetrics.errors import SettingsError
from cxmetrics.model import SURVEY_KINDS

CONFIG_FILE = "surveys.toml"
#: the languages a survey can be sent in: every one has a complete translation (surveys/locales/)
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")
#: the scales each kind may use; the first is the default
SCALES: dict[str, tuple[str, ...]] = {"csat": ("1-5", "good/bad"), "ces": ("1-7",), "nps": ("0-10",),
                                      "esat": ("1-5",)}
#: the ticket dimensions a survey's `where` may name (the registry's names)
WHERE_DIMENSIONS = ("channel", "team", "tier", "priority", "product", "region", "topic", "source", "assignee",
                    "agent_type", "created_by")
#: the customer columns a relationship survey's `segment` may name
SEGMENT_COLUMNS = ("tier", "region", "segment")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_LOGO_BYTES = 200 * 1024


def scale_range(scale: str) -> tuple[int, int]:
    """The lowest and highest score of a survey scale (good/bad is 0 and 1, as stored).

    >>> scale_range("0-10"), scale_range("good/bad")
    ((0, 10), (0, 1))
    """
    if scale == "good/bad":
        return 0, 1
    lo, hi = scale.split("-")
    return int(lo), int(hi)


class SurveysConfigError(SettingsError):
    """`surveys.toml` is malformed; the message names the field and the fix."""


class Trigger(StrEnum):
    """When a survey goes out."""

    SOLVED = "solved"  # `delay` after a ticket is solved (its first solve)
    RELATIONSHIP = "relationship"  # every `every` to each customer of a segment (relationship NPS)
    ON_DEMAND = "on_demand"  # only when asked: `cxmetrics surveys send`, a link, the API
    EMBED = "embed"  # the help desk's own solve e-mail carries the rating links (docs/surveys.md)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _duration(value: Any, field: str, *, allow_zero: bool = True) -> float:
    s = parse_duration(value)  # the error's path names the field
    if not allow_zero and s <= 0:
        raise ValueError("must be more than 0, e.g. \"30d\".")
    return s


def _texts(value: Any, field: str) -> dict[str, str]:
    """A text per language: `"How did we do?"` (English) or `{ en = "...", de = "..." }`."""
    if isinstance(value, str):
        return {"en": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} is a text, or a table of texts by language such as {{ en = \"...\", de = \"...\" }}.")  # noqa: TRY004
    out = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise ValueError(f"{field}: '{lang}' is not an offered language; use one of {', '.join(LANGUAGES)}.")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{field}.{lang} must be a non-empty text.")
        out[str(lang)] = text.strip()
    return out


def _values(value: Any, field: str, known: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} is a table such as {{ channel = [\"email\", \"chat\"] }}.")  # noqa: TRY004
    out = {}
    for dim, vals in value.items():
        if dim not in known:
            close = difflib.get_close_matches(str(dim), known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"'{dim}' cannot be used here.{hint} Use {', '.join(known)}.")
        items = (vals,) if isinstance(vals, str) else vals
        if not isinstance(items, (list, tuple)) or not items or not all(isinstance(v, str) for v in items):
            raise ValueError(f"{field}.{dim} is a list of values such as [\"email\"] (an empty list matches nothing).")
        out[str(dim)] = tuple(items)
    return out


class Survey(_Model):
    """One survey definition (a `[[surveys]]` block)."""

    name: str
    kind: str
    scale: str = ""  # default: the kind's first scale
    question: dict[str, str] = Field(default_factory=dict)  # by language; default: the shipped wording
    comment_prompt: dict[str, str] = Field(default_factory=dict)
    trigger: Trigger = Trigger.SOLVED
    delay_s: float = Field(3600.0, alias="delay")  # solved: after the solve
    reminder_s: float | None = Field(None, alias="reminder")  # one reminder this long after the invite
    every_s: float | None = Field(None, alias="every")  # relationship: how often per customer
    where: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # ticket dimensions -> values
    segment: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # relationship: customer columns
    include_bot_solved: bool = False
    source: str | None = None  # only tickets of this source (a workspace with several help desks)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"'{v}' is not a survey name: use lower-case letters, digits, _ and -, "
                             "such as csat_after_solve.")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in SURVEY_KINDS:
            raise ValueError(f"'{v}' is not a survey kind; use {', '.join(SURVEY_KINDS)}.")
        return v

    @field_validator("question", "comment_prompt", mode="before")
    @classmethod
    def _text(cls, v: Any, info: Any) -> dict[str, str]:
        return _texts(v, str(info.field_name))

    @field_validator("delay_s", mode="before")
    @classmethod
    def _delay(cls, v: Any) -> float:
        return _duration(v, "delay")

    @field_validator("reminder_s", "every_s", mode="before")
    @classmethod
    def _positive(cls, v: Any, info: Any) -> float | None:
        return None if v is None else _duration(v, str(info.field_name).removesuffix("_s"), allow_zero=False)

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, v: Any) -> dict[str, tuple[str, ...]]:
        return _values(v, "where", WHERE_DIMENSIONS)

    @field_validator("segment", mode="before")
    @classmethod
    def _segment(cls, v: Any) -> dict[str, tuple[str, ...]]:
        return _values(v, "segment", SEGMENT_COLUMNS)

    @model_validator(mode="after")
    def _consistent(self) -> Survey:
        scales = SCALES[self.kind]
        if not self.scale:
            object.__setattr__(self, "scale", scales[0])
        elif self.scale not in scales:
            raise ValueError(f"survey '{self.name}': scale '{self.scale}' is not offered for {self.kind}; "
                             f"use {' or '.join(scales)}.")
        if self.trigger is Trigger.RELATIONSHIP and self.every_s is None:
            raise ValueError(f"survey '{self.name}': a relationship survey needs every, e.g. every = \"90d\".")
        if self.trigger is not Trigger.RELATIONSHIP and (self.every_s is not None or self.segment):
            raise ValueError(f"survey '{self.name}': every and segment are for trigger = \"relationship\".")
        if self.trigger is Trigger.RELATIONSHIP and self.where:
            raise ValueError(f"survey '{self.name}': a relationship survey is about a customer, not a ticket; "
                             "use segment (tier, region, segment) instead of where.")
        return self

    @property
    def scale_range(self) -> tuple[int, int]:
        """The lowest and highest score (good/bad is 0 and 1, as stored)."""
        return scale_range(self.scale)


class Branding(_Model):
    """How the e-mail and the page look: the organisation's name, colour and logo."""

    name: str = "Customer support"
    colour: str = Field("#2563eb", alias="color")
    logo: str | None = None  # a PNG, JPEG or GIF file, relative to the workspace folder

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "colour" in data:  # both spellings are accepted
            data = {**data, "color": data["colour"]}
            data.pop("colour")
        return data

    @field_validator("colour")
    @classmethod
    def _colour(cls, v: str) -> str:
        if not _COLOUR.match(v):
            raise ValueError(f"'{v}' is not a colour; write it as #RRGGBB, such as \"#2563eb\".")
        return v.lower()


class EmailSettings(_Model):
    """Where survey e-mails go out: an `alerts.toml` e-mail destination (`destination`), or
    a server given here with the same keys (host, port, security, ca_file, username_env,
    password_env)."""

    destination: str | None = None
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    security: Security = Security.STARTTLS
    ca_file: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    from_: str | None = Field(None, alias="from")  # default: the destination's from
    reply_to: str | None = None

    @model_validator(mode="after")
    def _one(self) -> EmailSettings:
        if (self.destination is None) == (self.host is None):
            raise ValueError("[email] needs either destination (the name of an e-mail destination in alerts.toml) "
                             "or host (an SMTP server), not both.")
        if self.host is not None and not self.from_:
            raise ValueError("[email] needs from (the sender's address, e.g. \"Acme Support <support@acme.example>\").")
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("[email] needs both username_env and password_env (the SMTP login), or neither.")
        if self.destination is not None and (self.username_env or self.ca_file or self.port):
            raise ValueError("[email] names an alerts.toml destination: its server, port, login and ca_file come "
                             "from there; remove them here (only from and reply_to may be set beside destination).")
        return self

    def smtp(self, workspace: str | os.PathLike[str] | None = None) -> EmailDestination:
        """The SMTP server as an alerts e-mail destination (its host, port, security, login
        and sender), read from `alerts.toml` in `workspace` when `destination` names one."""
        if self.destination is not None:
            from cxmetrics.alerts._config import AlertsConfig, AlertsConfigError

            try:
                alerts = AlertsConfig.load(workspace or ".")
            except AlertsConfigError as exc:
                raise SurveysConfigError(f"{CONFIG_FILE}: [email] destination '{self.destination}': {exc}") from None
            dest = alerts.destination(self.destination)
            if not isinstance(dest, EmailDestination):
                names = [d.name for d in alerts.destinations if isinstance(d, EmailDestination)]
                raise SurveysConfigError(
                    f"{CONFIG_FILE}: [email] destination '{self.destination}' is not an e-mail destination of "
                    f"alerts.toml (those are: {', '.join(names) or 'none'}).")
            return dest if self.from_ is None else dest.model_copy(update={"from_": self.from_})
        return EmailDestination.model_validate({
            "type": "email", "name": "surveys", "host": self.host, "port": self.port, "security": self.security,
            "ca_file": self.ca_file, "username_env": self.username_env, "password_env": self.password_env,
            "from": self.from_, "to": ["surveys@localhost"]})  # `to` is each send's customer


class SurveysConfig(_Model):
    """A parsed `surveys.toml`."""

    base_url: str | None = None  # where customers reach /s/TOKEN; default: the server's own address
    token_ttl_s: float = Field(30 * 86400.0, alias="token_ttl")  # a link answers for this long
    edit_window_s: float = Field(7 * 86400.0, alias="edit_window")  # an answer can be changed this long
    throttle_s: float = Field(7 * 86400.0, alias="throttle")  # at most one survey per customer per this
    interval_s: float = Field(60.0, alias="interval")  # how often the server looks for surveys due
    default_language: str = "en"
    languages: tuple[str, ...] = LANGUAGES
    branding: Branding = Branding()
    email: EmailSettings | None = None
    surveys: tuple[Survey, ...] = ()

    @field_validator("token_ttl_s", "edit_window_s", "throttle_s", "interval_s", mode="before")
    @classmethod
    def _durations(cls, v: Any, info: Any) -> float:
        name = str(info.field_name).removesuffix("_s")
        return _duration(v, name, allow_zero=name in ("throttle", "edit_window"))

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", v):
            raise ValueError(f"base_url '{v}' must start with http:// or https:// and name a host, such as "
                             "\"https://cx.example.com\".")
        return None if v is None else v.rstrip("/")

    @field_validator("languages", mode="before")
    @classmethod
    def _langs(cls, v: Any) -> Any:
        items = (v,) if isinstance(v, str) else v
        for lang in items:
            if lang not in LANGUAGES:
                raise ValueError(f"'{lang}' is not a language with a translation; use {', '.join(LANGUAGES)}.")
        return tuple(items)

    @model_validator(mode="after")
    def _check(self) -> SurveysConfig:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language '{self.default_language}' is not in languages.")
        seen: set[str] = set()
        for s in self.surveys:
            if s.name in seen:
                raise ValueError(f"survey name '{s.name}' is used twice; give each survey its own name.")
            seen.add(s.name)
        return self

    def survey(self, name: str) -> Survey:
        """The definition called `name`; SurveysConfigError (with the nearest name) if none."""
        for s in self.surveys:
            if s.name == name:
                return s
        names = [s.name for s in self.surveys]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise SurveysConfigError(f"no survey '{name}' in {CONFIG_FILE}.{hint} Defined: {', '.join(names) or 'none'}.")

    def language_for(self, locale: str | None) -> str:
        """The offered language for a customer's locale (`de-AT`, `fr_CA`, `ES`), else the default.

        >>> SurveysConfig().language_for("de-AT"), SurveysConfig().language_for("xx"), SurveysConfig().language_for(None)
        ('de', 'en', 'en')
        """
        if locale:
            lang = re.split(r"[-_]", locale.strip().lower(), maxsplit=1)[0]
            if lang in self.languages:
                return lang
        return self.default_language

    def logo_path(self, workspace: str | os.PathLike[str]) -> Path | None:
        """The branding logo's file, checked: a PNG, JPEG or GIF of at most 200 KB."""
        if self.branding.logo is None:
            return None
        p = Path(workspace) / self.branding.logo
        if not p.is_file():
            raise SurveysConfigError(f"{CONFIG_FILE}: [branding] logo '{self.branding.logo}' is not a file in the "
                                     "workspace folder.")
        head = p.read_bytes()[:8]
        if not (head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8") or head.startswith(b"GIF8")):
            raise SurveysConfigError(f"{CONFIG_FILE}: [branding] logo '{self.branding.logo}' is not a PNG, JPEG or "
                                     "GIF image.")
        if p.stat().st_size > MAX_LOGO_BYTES:
            raise SurveysConfigError(f"{CONFIG_FILE}: [branding] logo '{self.branding.logo}' is over 200 KB; "
                                     "use a smaller image (it goes into every e-mail).")
        return p

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = CONFIG_FILE) -> SurveysConfig:
        """Validate `data` (a parsed TOML document)."""
        _check_keys(data, where)
        problem = None
        try:
            cfg = cls.model_validate(dict(data))
        except ValidationError as exc:
            problem = _explain(exc, where)
        if problem is not None:
            raise SurveysConfigError(problem)
        return cfg

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SurveysConfig:
        """Read `surveys.toml` at `path` (a file, or a workspace folder holding one); a
        workspace without the file has no surveys (an empty config)."""
        p = Path(path)
        if p.is_dir():
            p = p / CONFIG_FILE
        if not p.is_file():
            return cls()
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SurveysConfigError(f"{p} is not valid TOML: {exc}") from None
        return cls.from_dict(data, where=str(p))


_TOP = {"base_url", "token_ttl", "edit_window", "throttle", "interval", "default_language", "languages", "branding",
        "email", "surveys"}
_SURVEY_KEYS = {"name", "kind", "scale", "question", "comment_prompt", "trigger", "delay", "reminder", "every", "where",
                "segment", "include_bot_solved", "source", "enabled"}


def _check_keys(data: Mapping[str, Any], where: str) -> None:
    def unknown(key: str, known: set[str], at: str) -> SurveysConfigError:
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return SurveysConfigError(f"{where}: {at}unknown key '{key}'.{hint} Known: {', '.join(sorted(known))}.")

    for key in data:
        if key not in _TOP:
            raise unknown(key, _TOP, "")
    surveys = data.get("surveys", [])
    if not isinstance(surveys, list):
        raise SurveysConfigError(f"{where}: surveys must be a list of tables: write [[surveys]] blocks.")
    for i, s in enumerate(surveys):
        if isinstance(s, Mapping):
            for key in s:
                if key not in _SURVEY_KEYS:
                    raise unknown(key, _SURVEY_KEYS, f"surveys[{i}] ({s.get('name', '?')}): ")


def _explain(exc: ValidationError, where: str) -> str:
    lines = []
    for err in exc.errors():
        path = ""
        for p in err["loc"]:
            if isinstance(p, str) and p.startswith("function-"):
                continue
            path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
        path = re.sub(r"_s\b", "", path).replace("from_", "from")  # the file's spelling of the field
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            lines.append(f"{path} is missing; add it")
            continue
        if err["type"] == "extra_forbidden":
            msg = "unknown key; remove it (docs/surveys.md lists the keys)"
        lines.append(f"{path}: {msg.rstrip('.')}" if path else msg.rstrip("."))
    return f"{where}: " + "; ".join(lines) + "."


_CACHE: dict[Path, tuple[tuple[int, int], SurveysConfig]] = {}


def load_config(workspace: str | os.PathLike[str]) -> SurveysConfig:
    """The workspace's `surveys.toml`, read again only when the file changes (the server
    calls this on every tick and page, so an edit takes effect without a restart)."""
    p = Path(workspace) / CONFIG_FILE
    try:
        st = p.stat()
    except FileNotFoundError:
        return SurveysConfig()
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(p)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    cfg = SurveysConfig.load(p)
    _CACHE[p] = (stamp, cfg)
    return cfg
