"""`alerts.toml`: where alerts go, how early, and when to stay quiet.

The file lives in the workspace folder next to `settings.toml`. Secrets never sit in
it: a password, a webhook secret, a header value or a whole URL (a Slack URL carries
its token) are named by the environment variable that holds them (`*_env`), read
when the file is loaded, and kept as `SecretStr` so that no repr or log shows them.

>>> cfg = AlertsConfig.from_dict({"at_risk_before": "45m", "destinations": [
...     {"name": "ops", "type": "webhook", "url": "http://127.0.0.1:9/hook"}]})
>>> cfg.at_risk_before_s, cfg.destinations[0].name, cfg.retry.max_attempts
(2700.0, 'ops', 8)
>>> parse_duration("1h30m")
5400.0
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cxmetrics.errors import SettingsError

CONFIG_FILE = "alerts.toml"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


class AlertsConfigError(SettingsError):
    """`alerts.toml` is malformed; the message names the field and the fix."""


class AlertKind(str, Enum):
    """The state changes that alert: a target about to breach, and a target breached."""

    AT_RISK = "at_risk"
    BREACHED = "breached"


class HoldMode(str, Enum):
    """What quiet hours hold back: only at-risk alerts (breaches still go out), or all."""

    AT_RISK = "at_risk"
    ALL = "all"


class Security(str, Enum):
    """How an SMTP connection is protected."""

    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


def parse_duration(value: str | float, field: str = "") -> float:
    """Seconds in a duration such as `30m`, `1h30m`, `45s`, `2d` or a plain number of seconds."""
    field = f"{field}: " if field else ""
    if isinstance(value, bool):
        raise ValueError(f"{field}{value!r} is not a duration; write e.g. \"30m\", \"1h30m\" or \"45s\".")  # noqa: TRY004
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if not text or "".join(n + u for n, u in parts) != text:
            if re.fullmatch(r"\d+(\.\d+)?", text):
                return float(text)
            raise ValueError(f"{field}'{value}' is not a duration; write e.g. \"30m\", \"1h30m\", \"45s\" or \"2d\".")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < 0:
        raise ValueError(f"{field}{value!r} is negative; a duration must be 0 or more.")
    return seconds


def _seconds(value: Any, field: str, *, positive: bool = True) -> float:
    s = parse_duration(value)
    if positive and s <= 0:
        raise ValueError(f"must be more than 0 (e.g. \"30s\"), not {value!r}.")
    return s


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RetryPolicy(_Model):
    """How failed deliveries are retried: wait base_delay * 2^(attempt-1), at most
    max_delay, up to max_attempts attempts in all (the first one included)."""

    max_attempts: int = Field(8, ge=1, le=100)
    base_delay: float = 10.0
    max_delay: float = 1800.0
    timeout: float = 10.0

    @field_validator("base_delay", "max_delay", "timeout", mode="before")
    @classmethod
    def _durations(cls, v: Any, info: ValidationInfo) -> float:
        return _seconds(v, str(info.field_name))

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt before the next one."""
        return min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))


class QuietSpan(_Model):
    """Local clock times (`start` to `end`, minutes after midnight; end may be 1440 or
    before start for a span through midnight) that are quiet, beginning on `days`."""

    start_min: int
    end_min: int
    days: tuple[int, ...] = tuple(range(7))  # 0 = Monday


def _parse_span(value: Any, where: str) -> QuietSpan:
    if isinstance(value, str):
        hours, days = value, None
    elif isinstance(value, Mapping):
        unknown = set(value) - {"hours", "days"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a span has hours and days.")
        if "hours" not in value:
            raise ValueError(f"{where}: a span needs hours, e.g. {{ hours = \"22:00-07:00\", days = [\"mon-fri\"] }}.")
        hours, days = value["hours"], value.get("days")
    else:
        # (pydantic reports ValueErrors, not TypeErrors)
        raise ValueError(  # noqa: TRY004
            f"{where}: write a span as \"22:00-07:00\" or {{ hours = \"22:00-07:00\", days = [\"sat\"] }}.")
    if not isinstance(hours, str) or hours.count("-") != 1:
        raise ValueError(f"{where}: hours '{hours}' is not HH:MM-HH:MM such as \"22:00-07:00\".")
    a, b = (_minute(x.strip(), where) for x in hours.split("-"))
    if a == b or a == 1440:
        raise ValueError(f"{where}: '{hours}' is empty; use \"00:00-24:00\" for a whole day.")
    return QuietSpan(start_min=a, end_min=b, days=_parse_days(days, where) if days is not None else tuple(range(7)))


def _minute(text: str, where: str) -> int:
    m = _HHMM.match(text)
    if not m or int(m.group(2)) > 59 or int(m.group(1)) > 24 or (int(m.group(1)) == 24 and m.group(2) != "00"):
        raise ValueError(f"{where}: '{text}' is not a time of day HH:MM (00:00 to 24:00).")
    return int(m.group(1)) * 60 + int(m.group(2))


def _parse_days(days: Any, where: str) -> tuple[int, ...]:
    items = [days] if isinstance(days, str) else days
    if not isinstance(items, list) or not items:
        raise ValueError(f"{where}: days must be a list such as [\"mon-fri\"] or [\"sat\", \"sun\"].")
    out: set[int] = set()
    for item in items:
        for part in str(item).lower().replace(" ", "").split(","):
            lo, _, hi = part.partition("-")
            for d in (lo, hi or lo):
                if d not in _DAYS:
                    close = difflib.get_close_matches(d, _DAYS, n=1)
                    hint = f" Did you mean '{close[0]}'?" if close else ""
                    raise ValueError(
                        f"{where}: '{d}' is not a day; use {', '.join(_DAYS)} or ranges like mon-fri.{hint}")
            i, j = _DAYS.index(lo), _DAYS.index(hi or lo)
            out.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(j + 1)])
    return tuple(sorted(out))


class QuietHours(_Model):
    """Times when alerts are held and delivered when the quiet time ends."""

    timezone: str | None = None  # default: the workspace's time zone
    hold: HoldMode = HoldMode.AT_RISK
    spans: tuple[QuietSpan, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"'{v}' is not an IANA time zone; use a name such as 'Europe/Berlin'.") from None
        return v

    @field_validator("spans", mode="before")
    @classmethod
    def _spans(cls, v: Any) -> Any:
        if not isinstance(v, (list, tuple)):
            raise ValueError("spans must be a list such as [\"22:00-07:00\"].")  # noqa: TRY004
        return tuple(s if isinstance(s, QuietSpan) else _parse_span(s, f"span {i + 1}") for i, s in enumerate(v))


class _Destination(_Model):
    """What every destination has: a unique name, filters, and whether quiet hours apply."""

    name: str = Field(min_length=1)
    quiet_hours: bool = True
    kinds: tuple[AlertKind, ...] | None = None
    policies: tuple[str, ...] | None = None
    priorities: tuple[str, ...] | None = None
    teams: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None

    @field_validator("kinds", "policies", "priorities", "teams", "metrics", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return (v,)
        if isinstance(v, (list, tuple)) and not v:
            raise ValueError("an empty filter matches nothing; leave the key out to match everything.")
        return v

    @field_validator("priorities")
    @classmethod
    def _lower(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        # priorities are stored lower-case by the import
        return None if v is None else tuple(p.lower() for p in v)

    def filters(self) -> dict[str, list[str] | None]:
        """The filters as plain lists (None = match every value)."""
        return {
            "kinds": None if self.kinds is None else [k.value for k in self.kinds],
            "policies": None if self.policies is None else list(self.policies),
            "priorities": None if self.priorities is None else list(self.priorities),
            "teams": None if self.teams is None else list(self.teams),
            "metrics": None if self.metrics is None else list(self.metrics),
        }


def _url_of(url: SecretStr | None, url_env: str | None, env: Mapping[str, str], kind: str) -> SecretStr:
    if (url is None) == (url_env is None):
        raise ValueError(f"give exactly one of url or url_env (the environment variable holding the {kind} URL).")
    if url_env is not None:
        return SecretStr(_env(env, url_env, "url_env"))
    assert url is not None
    text = url.get_secret_value()
    if not re.match(r"^https?://[^/\s]+", text):
        raise ValueError("url must start with http:// or https:// and name a host.")
    return url


def _env(env: Mapping[str, str], name: str, key: str) -> str:
    value = env.get(name)
    if value is None or value == "":
        raise ValueError(f"{key}: environment variable {name} is not set; export it before starting the watcher.")
    return value


class WebhookDestination(_Destination):
    """A generic JSON webhook: the alert payload is POSTed as JSON. With a secret, the
    send time and the body are signed: `X-Cxmetrics-Signature: t=<unix>,v1=<hex HMAC-SHA256>`."""

    type: Literal["webhook"]
    url: SecretStr | None = None
    url_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    headers_env: dict[str, str] = Field(default_factory=dict)
    secret_env: str | None = None


class SlackDestination(_Destination):
    """A Slack-compatible incoming webhook: POSTs `{"text": ..., "blocks": [...]}`."""

    type: Literal["slack"]
    url: SecretStr | None = None
    url_env: str | None = None


class EmailDestination(_Destination):
    """E-mail over SMTP: one message per alert to every address in `to`."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535)
    security: Security = Security.STARTTLS
    ca_file: str | None = None  # a CA bundle to trust (a private relay's certificate); default: the system's
    username_env: str | None = None
    password_env: str | None = None
    from_: str = Field(alias="from", min_length=3)
    to: tuple[str, ...] = Field(min_length=1)

    @field_validator("to", mode="before")
    @classmethod
    def _to(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for a in v:
            if "@" not in a:
                raise ValueError(f"'{a}' is not an e-mail address.")
        return v

    @field_validator("ca_file")
    @classmethod
    def _ca(cls, v: str | None) -> str | None:
        if v is not None and not Path(v).is_file():
            raise ValueError(f"'{v}' is not a file; give the path of a PEM file with the CA certificate(s) to trust.")
        return v

    @model_validator(mode="after")
    def _pair(self) -> EmailDestination:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("give both username_env and password_env (SMTP login), or neither.")
        return self

    @property
    def effective_port(self) -> int:
        """The port: as configured, else 465 for ssl, 587 for starttls, 25 without."""
        return self.port or {Security.SSL: 465, Security.STARTTLS: 587, Security.NONE: 25}[self.security]


Destination = Annotated[WebhookDestination | SlackDestination | EmailDestination, Field(discriminator="type")]


class ResolvedSecrets(BaseModel):
    """Secrets of one destination read from the environment; shown as '**********'."""

    model_config = ConfigDict(frozen=True)
    url: SecretStr | None = None
    secret: SecretStr | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    username: SecretStr | None = None
    password: SecretStr | None = None


class AlertsConfig(_Model):
    """A parsed `alerts.toml`."""

    at_risk_before_s: float = Field(1800.0, alias="at_risk_before")
    interval_s: float = Field(30.0, alias="interval")
    backfill_s: float = Field(3600.0, alias="backfill")
    retry: RetryPolicy = RetryPolicy()
    quiet_hours: QuietHours = QuietHours()
    destinations: tuple[Destination, ...] = ()
    secrets: dict[str, ResolvedSecrets] = Field(default_factory=dict, exclude=True)

    @field_validator("at_risk_before_s", "interval_s", "backfill_s", mode="before")
    @classmethod
    def _durations(cls, v: Any, info: ValidationInfo) -> float:
        name = str(info.field_name).removesuffix("_s")
        return _seconds(v, name, positive=name != "backfill")

    @model_validator(mode="after")
    def _unique(self) -> AlertsConfig:
        seen: set[str] = set()
        for d in self.destinations:
            if d.name in seen:
                raise ValueError(f"destination name '{d.name}' is used twice; give each destination its own name.")
            seen.add(d.name)
        return self

    def destination(self, name: str) -> WebhookDestination | SlackDestination | EmailDestination | None:
        return next((d for d in self.destinations if d.name == name), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = CONFIG_FILE,
                  environ: Mapping[str, str] | None = None) -> AlertsConfig:
        """Validate `data` (a parsed TOML document) and read the secrets it names from
        `environ` (default: os.environ)."""
        env = os.environ if environ is None else environ
        _check_keys(data, where)
        problem = None
        try:
            cfg = cls.model_validate(dict(data))
        except ValidationError as exc:
            problem = _explain(exc, data, where)
        if problem is not None:  # raised outside the handler: the validation error (and its frames) go
            raise AlertsConfigError(problem)
        secrets: dict[str, ResolvedSecrets] = {}
        for i, d in enumerate(cfg.destinations):
            label = f"destinations[{i}] ({d.name})"
            try:
                secrets[d.name] = _resolve(d, env)
            except ValueError as exc:
                raise AlertsConfigError(f"{where}: {label}: {exc}") from None
        return cfg.model_copy(update={"secrets": secrets})

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> AlertsConfig:
        """Read `alerts.toml` at `path` (a file, or a workspace folder holding one)."""
        p = Path(path)
        if p.is_dir():
            p = p / CONFIG_FILE
        if not p.is_file():
            raise AlertsConfigError(
                f"{p} does not exist: create it with at least one destination, e.g.\n"
                '  at_risk_before = "30m"\n  [[destinations]]\n  name = "ops"\n  type = "webhook"\n'
                '  url = "https://example.com/hooks/sla"\n(see docs/alerts.md).'
            )
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise AlertsConfigError(f"{p} is not valid TOML: {exc}") from None
        return cls.from_dict(data, where=str(p), environ=environ)


def _resolve(d: WebhookDestination | SlackDestination | EmailDestination, env: Mapping[str, str]) -> ResolvedSecrets:
    if isinstance(d, EmailDestination):
        if d.username_env is None:
            return ResolvedSecrets()
        return ResolvedSecrets(username=SecretStr(_env(env, d.username_env, "username_env")),
                               password=SecretStr(_env(env, str(d.password_env), "password_env")))
    url = _url_of(d.url, d.url_env, env, d.type)
    if isinstance(d, SlackDestination):
        return ResolvedSecrets(url=url)
    headers = {h: SecretStr(_env(env, var, f"headers_env.{h}")) for h, var in d.headers_env.items()}
    secret = SecretStr(_env(env, d.secret_env, "secret_env")) if d.secret_env else None
    return ResolvedSecrets(url=url, secret=secret, headers=headers)


_TOP = {"at_risk_before", "interval", "backfill", "retry", "quiet_hours", "destinations"}


def _check_keys(data: Mapping[str, Any], where: str) -> None:
    for key in data:
        if key not in _TOP:
            close = difflib.get_close_matches(key, sorted(_TOP), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise AlertsConfigError(f"{where}: unknown key '{key}'.{hint} Known: {', '.join(sorted(_TOP))}.")
    dests = data.get("destinations", [])
    if not isinstance(dests, list):
        raise AlertsConfigError(f"{where}: destinations must be a list of tables: write [[destinations]] blocks.")
    for i, d in enumerate(dests):
        if isinstance(d, Mapping) and "type" not in d:
            raise AlertsConfigError(
                f"{where}: destinations[{i}]: type is missing; set type = \"webhook\", \"slack\" or \"email\"."
            )


_FIELDS = {
    "webhook": set(WebhookDestination.model_fields),
    "slack": set(SlackDestination.model_fields),
    "email": {*EmailDestination.model_fields, "from"} - {"from_"},
}


def _explain(exc: ValidationError, data: Mapping[str, Any], where: str) -> str:
    """One line per problem: the field's path, what is wrong, and how to fix it."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if p not in ("webhook", "slack", "email", "function-after", "function-before")]
        path = ""
        for p in loc:
            path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
        path = path.replace("at_risk_before_s", "at_risk_before").replace("interval_s", "interval")
        path = path.replace("backfill_s", "backfill").replace("from_", "from")
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden" and len(loc) >= 3 and loc[0] == "destinations":
            dtype = data["destinations"][loc[1]].get("type", "")
            known = sorted(_FIELDS.get(dtype, set()))
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            msg = f"unknown key for a {dtype} destination.{hint} Known: {', '.join(known)}."
        elif err["type"] == "extra_forbidden":
            msg = "unknown key; remove it (see docs/alerts.md for the keys)."
        elif err["type"] == "missing":
            lines.append(f"{path} is missing; add it")
            continue
        elif err["type"] == "union_tag_invalid":
            msg = "type must be \"webhook\", \"slack\" or \"email\"."
        lines.append(f"{path}: {msg.rstrip('.')}" if path else msg.rstrip("."))
    return f"{where}: " + "; ".join(lines) + "."
