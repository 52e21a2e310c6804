"""Workspace settings: one table of settings feeds the file, the CLI and the docs.

Settings live in `settings.toml` in the workspace folder. Unknown keys are an error
(a typo must not be silently ignored); missing keys take their defaults. A help desk's
connection is a `[connectors.VENDOR]` table (CONNECTOR_KEYS); it names where its
credentials are (an environment variable or a file), never the credentials themselves.

>>> Settings().timezone
'UTC'
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxmetrics.errors import SettingsError


_UNITS = {"": 1, "B": 1, "KB": 1 << 10, "KIB": 1 << 10, "MB": 1 << 20, "MIB": 1 << 20, "GB": 1 << 30, "GIB": 1 << 30,
          "TB": 1 << 40, "TIB": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes of a size such as '32MB' (units are powers of 1024); ValueError if malformed.

    >>> parse_size("64MB"), parse_size("1GB"), parse_size("512")
    (67108864, 1073741824, 512)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    if m is None or m.group(2).upper() not in _UNITS:
        raise ValueError(text)
    value = int(float(m.group(1)) * _UNITS[m.group(2).upper()])
    if value < 1:
        raise ValueError(text)
    return value


def format_size(n: int) -> str:
    """A byte count as people read it: '32 MB', '1.5 GB', '900 B'."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} B"


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
    # limits (docs/api.md, "Limits"); sizes take B, KB, MB or GB (powers of 1024)
    Setting("max_line_size", "32MB", "the longest header or line of a CSV or JSON Lines file; a longer line is "
            "quarantined (a longer header refuses the file)"),
    Setting("max_decompressed_size", "2GB", "the most a compressed (.gz) file may expand to; a file that expands "
            "further is refused"),
    Setting("max_upload_size", "1GB", "the largest request body of an API upload (POST /api/v1/imports/{kind}); "
            "larger ones get 413"),
    Setting("max_events_body", "64MB", "the largest request body of POST /api/v1/events; larger ones get 413"),
    Setting("write_wait", "4", "seconds an API write waits for another write (a long import) before it answers "
            "503 with Retry-After"),
    Setting("max_answer_cells", "1000000", "the most cells (groups x periods x metrics) a metric request may "
            "answer; a larger one is refused before it runs, with how to narrow it"),
    # the Spark engine (`cxmetrics --engine spark`, docs/spark.md); --spark-conf overrides both
    Setting("spark_master", "local[*]", "the Spark master of `--engine spark` runs (local[*], spark://host:7077, "
            "yarn...); spark-submit's own wins"),
    Setting("spark_conf", "", "more Spark settings for `--engine spark`, as key=value pairs separated by commas"),
)


# the keys of a `[connectors.VENDOR]` table (docs/connectors.md, "Live sync")
CONNECTOR_KEYS: tuple[Setting, ...] = (
    Setting("base_url", "", "the help desk's address, e.g. https://acme.zendesk.com (or give subdomain)"),
    Setting("subdomain", "", "Zendesk and Freshdesk: the account's subdomain (acme for acme.zendesk.com)"),
    Setting("account_id", "", "Chatwoot: the account's number"),
    Setting("email", "", "Zendesk: the email of the agent whose API token is used"),
    Setting("token_env", "", "the environment variable that holds the API token"),
    Setting("token_file", "", "a file (outside the repository) that holds the API token"),
    Setting("start", "", "the first sync reads changes since this date (ISO 8601); default 30 days ago"),
    Setting("interval", "", "`cxmetrics serve` syncs this often, e.g. 15m or 1h; empty: only on demand"),
    Setting("webhook_secret_env", "", "the environment variable that holds the webhook signing secret"),
    Setting("webhook_secret_file", "", "a file (outside the repository) that holds the webhook signing secret"),
)
CONNECTOR_VENDORS = ("zendesk", "freshdesk", "intercom", "chatwoot")


def _connectors(path: Path, raw: object) -> dict[str, dict[str, str]]:
    """The `[connectors.VENDOR]` tables, checked: known vendors and keys, text values."""
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: connectors must be tables such as [connectors.zendesk].")
    keys = {k.name for k in CONNECTOR_KEYS}
    out: dict[str, dict[str, str]] = {}
    for vendor, table in raw.items():
        if vendor not in CONNECTOR_VENDORS:
            raise SettingsError(f"{path}: [connectors.{vendor}] is not a help desk we connect to; "
                                f"known: {', '.join(CONNECTOR_VENDORS)}.")
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: connectors.{vendor} must be a table: [connectors.{vendor}].")
        unknown = sorted(set(table) - keys)
        secrets = [k for k in unknown if any(w in k for w in ("token", "key", "password", "secret"))]
        if secrets:
            raise SettingsError(f"{path}: [connectors.{vendor}] holds {', '.join(secrets)}: credentials never go in "
                                "settings.toml. Put the token in an environment variable or a file outside the "
                                "repository and name it with token_env or token_file (webhook_secret_env or "
                                "webhook_secret_file for a webhook secret).")
        if unknown:
            raise SettingsError(f"{path}: [connectors.{vendor}] has unknown key(s) {', '.join(unknown)}; "
                                f"known: {', '.join(sorted(keys))}.")
        out[vendor] = {k: str(v) for k, v in table.items()}
    return out


@dataclass(frozen=True)
class Settings:
    """A workspace's settings; immutable, replaced as a whole."""

    timezone: str = "UTC"
    currency: str = "EUR"
    memory_limit: str = "1.5GB"
    threads: str = "0"
    max_line_size: str = "32MB"
    max_decompressed_size: str = "2GB"
    max_upload_size: str = "1GB"
    max_events_body: str = "64MB"
    write_wait: str = "4"
    max_answer_cells: str = "1000000"
    spark_master: str = "local[*]"
    spark_conf: str = ""
    # [connectors.VENDOR] tables: vendor -> key -> value (CONNECTOR_KEYS)
    connectors: dict[str, dict[str, str]] = field(default_factory=dict)

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
        for name in ("max_line_size", "max_decompressed_size", "max_upload_size", "max_events_body"):
            self.size(name)  # refuse a malformed size when the settings load, not at the first upload
        try:
            wait = float(self.write_wait)
        except ValueError:
            wait = -1.0
        if not 0 <= wait <= 3600:
            raise SettingsError(f"write_wait '{self.write_wait}' must be a number of seconds between 0 and 3600, "
                                "such as '4'.")
        if not self.max_answer_cells.isdigit() or int(self.max_answer_cells) < 1:
            raise SettingsError(f"max_answer_cells '{self.max_answer_cells}' must be a whole number of cells, such as "
                                "'1000000'.")

    def size(self, name: str) -> int:
        """A size setting in bytes.

        >>> Settings(max_line_size="1.5KB").size("max_line_size")
        1536
        """
        value = getattr(self, name)
        try:
            return parse_size(value)
        except ValueError:
            raise SettingsError(f"{name} '{value}' is not a size; write it as a number and a unit, such as "
                                "'32MB' or '1GB' (B, KB, MB, GB: powers of 1024).") from None

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
        connectors = _connectors(path, data.pop("connectors", {}))
        return cls(**{k: str(v) for k, v in data.items()}, connectors=connectors)

    def save(self, path: Path) -> None:
        lines = ["# cxmetrics workspace settings"]
        for s in SETTINGS:
            lines.append(f"# {s.doc}")
            lines.append(f'{s.name} = "{getattr(self, s.name)}"')
        for vendor, table in self.connectors.items():
            lines.append(f"\n[connectors.{vendor}]")
            lines += [f"{k} = {_toml_string(v)}" for k, v in table.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def with_(self, **changes: str) -> Settings:
        return replace(self, **changes)


def _toml_string(value: str) -> str:
    """A TOML basic string (quotes and backslashes escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
