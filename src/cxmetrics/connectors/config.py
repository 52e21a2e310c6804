"""Configuration carried over: a help desk's schedules and SLA policies, as its API
returns them, turned into our `schedules.toml` and `sla.toml` (docs/connectors.md,
"Configuration carried over").

What each vendor gives:

| vendor | schedules | SLA policies |
|---|---|---|
| Zendesk | business_hours/schedules (+ each one's holidays) | slas/policies (groups for group conditions) |
| Freshdesk | business_hours (groups say which team follows which) | sla_policies |
| Intercom | office_hours_schedules (+ their exceptions) | none read (its SLA rules API is a preview) |
| Chatwoot | each inbox's working hours | sla_policies (Enterprise edition) |

`read_api` fetches the responses, `read_files` reads saved ones; both give `(name,
body)` pages that `convert` turns into a `Carried`: a ScheduleSet, SlaPolicies and
every warning about what could not be carried over (a condition our policies cannot
express is named, never silently dropped). `carry_over` compares the result with the
workspace's files and, when asked, writes them (keeping the old ones as `.bak`).

>>> c = convert("zendesk", [("schedules.json", {"schedules": [{"id": 1, "name": "Office",
...     "time_zone": "Berlin", "intervals": [{"start_time": 1980, "end_time": 2460}]}]})])
>>> print(c.schedules_toml().splitlines()[-2])
timezone = "Europe/Berlin"
>>> c.schedules.default.describe_hours()
'mon 09:00-17:00'
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cxmetrics.calendar import SCHEDULES_FILE, ScheduleSet
from cxmetrics.connectors._config_vendors import CONVERT, Found, Warnings, conditions_of
from cxmetrics.connectors._http import Client
from cxmetrics.errors import ConnectorError, UserError
from cxmetrics.settings import Settings
from cxmetrics.sla import POLICY_FILE, SlaPolicies

Pages = list[tuple[str, Any]]  # (where it came from, a response body)
VENDORS = ("zendesk", "freshdesk", "intercom", "chatwoot")


@dataclass(frozen=True)
class Carried:
    """A help desk's configuration in our terms: schedules and policies (None when the
    help desk had none to give) and what could not be carried over."""

    vendor: str
    schedules: ScheduleSet | None
    policies: SlaPolicies | None
    warnings: tuple[str, ...]
    read: dict[str, int]  # vendor objects read, by kind

    def schedules_toml(self) -> str | None:
        return None if self.schedules is None else self.schedules.to_toml()

    def sla_toml(self) -> str | None:
        return None if self.policies is None else self.policies.dumps()


@dataclass(frozen=True)
class FilePlan:
    """One workspace file: what it holds now (None: no file), what it would hold, and
    whether it was written (and where the old one went)."""

    name: str
    new: str
    old: str | None
    written: bool = False
    backup: Path | None = None

    @property
    def changed(self) -> bool:
        return self.new != self.old

    def diff(self) -> str:
        """A unified diff from the file as it is to the file as it would be."""
        lines = difflib.unified_diff((self.old or "").splitlines(keepends=True), self.new.splitlines(keepends=True),
                                     f"{self.name} (now)", f"{self.name} (from the help desk)")
        return "".join(lines)


@dataclass(frozen=True)
class CarryOver:
    """What `carry_over` found and did."""

    carried: Carried
    files: tuple[FilePlan, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.carried.vendor, "read": self.carried.read, "warnings": list(self.carried.warnings),
                "files": [{"name": f.name, "content": f.new, "changed": f.changed, "existed": f.old is not None,
                           "written": f.written, "backup": None if f.backup is None else str(f.backup)}
                          for f in self.files]}


# -- reading ------------------------------------------------------------------------------


def read_files(path: str | os.PathLike[str]) -> Pages:
    """Saved API responses (a file or a folder; .json, .jsonl, .gz as for imports)."""
    from cxmetrics.connectors._plumbing import read_pages, unreadable

    pages: Pages = []
    for page in read_pages(Path(path)):
        if unreadable(page.body) is None:
            pages.append((page.file.name if page.page is None else f"{page.file.name} page {page.page}", page.body))
    return pages


def read_api(settings: Settings, vendor: str, *, transport: Any = None) -> tuple[Pages, list[str]]:
    """The configuration responses of `vendor`'s API as [connectors.VENDOR] describes it,
    and warnings about endpoints the account does not offer."""
    from cxmetrics.connectors._http import TransientError, auth_headers, base_url

    headers = auth_headers(settings, vendor)
    if vendor == "intercom":  # office hours came with API 2.16; the sync pins an older version
        headers["Intercom-Version"] = "2.16"
    pages: Pages = []
    notes: list[str] = []
    with Client(vendor, base_url(settings, vendor), headers=headers, transport=transport) as client:
        try:
            _FETCH[vendor](client, settings, pages, notes)
        except TransientError as exc:
            raise ConnectorError(str(exc)) from None
    return pages, notes


def _follow(client: Client, path: str, key: str, pages: Pages, name: str) -> list[Any]:
    """Every item of a Zendesk-style list (`next_page` links) under `key`."""
    items: list[Any] = []
    url: str | None = path
    while url:
        body = client.get(url)
        pages.append((name, body))
        items += body.get(key) or [] if isinstance(body, dict) else []
        url = body.get("next_page") if isinstance(body, dict) else None
    return items


def _fetch_zendesk(client: Client, settings: Settings, pages: Pages, notes: list[str]) -> None:
    for s in _follow(client, "/api/v2/business_hours/schedules", "schedules", pages, "schedules"):
        _follow(client, f"/api/v2/business_hours/schedules/{s['id']}/holidays", "holidays", pages,
                f"holidays-{s['id']}")
    policies = _follow(client, "/api/v2/slas/policies", "sla_policies", pages, "sla_policies")
    if any(c.get("field") == "group_id" for p in policies for c in conditions_of(p)):
        _follow(client, "/api/v2/groups", "groups", pages, "groups")


def _paged_array(client: Client, path: str, pages: Pages, name: str) -> None:
    """A Freshdesk list: a bare array, `page` by `page` until a short one."""
    for n in range(1, 1000):
        body = client.get(path, params={"page": n, "per_page": 100})
        pages.append((f"{name} page {n}", body))
        if not isinstance(body, list) or len(body) < 100:
            return


def _fetch_freshdesk(client: Client, settings: Settings, pages: Pages, notes: list[str]) -> None:
    _paged_array(client, "/api/v2/business_hours", pages, "business_hours")
    _paged_array(client, "/api/v2/sla_policies", pages, "sla_policies")
    _paged_array(client, "/api/v2/groups", pages, "groups")


def _fetch_intercom(client: Client, settings: Settings, pages: Pages, notes: list[str]) -> None:
    try:
        body = client.get("/office_hours_schedules")
    except ConnectorError as exc:
        if " 404 " not in str(exc):
            raise
        raise ConnectorError("intercom answered 404 to GET /office_hours_schedules: this workspace's API offers no "
                             "office hours (they came with API version 2.16). Save them by hand in the shape of "
                             "docs/connectors.md, \"Configuration carried over\", and use --from.") from None
    pages.append(("office_hours_schedules", body))
    for s in body.get("data") or [] if isinstance(body, dict) else []:
        pages.append((f"office_hours_exceptions-{s.get('id')}",
                      client.get(f"/office_hours_schedules/{s.get('id')}/office_hours_exceptions")))


def _fetch_chatwoot(client: Client, settings: Settings, pages: Pages, notes: list[str]) -> None:
    account = settings.connectors.get("chatwoot", {}).get("account_id", "")
    if not str(account).isdigit():
        raise ConnectorError("[connectors.chatwoot] needs account_id: the number in your Chatwoot address "
                             "(app.chatwoot.com/app/accounts/NUMBER/...).")
    pages.append(("inboxes", client.get(f"/api/v1/accounts/{account}/inboxes")))
    try:
        pages.append(("sla_policies", client.get(f"/api/v1/accounts/{account}/sla_policies")))
    except ConnectorError as exc:
        if " 404 " not in str(exc):
            raise
        notes.append("Chatwoot has no SLA policies API here (they are an Enterprise feature): no sla.toml.")


_FETCH: dict[str, Callable[[Client, Settings, Pages, list[str]], None]] = {
    "zendesk": _fetch_zendesk, "freshdesk": _fetch_freshdesk, "intercom": _fetch_intercom,
    "chatwoot": _fetch_chatwoot,
}

# -- recognising the objects of a page ----------------------------------------------------------

_LISTS = ("schedules", "holidays", "sla_policies", "groups", "data", "payload", "business_hours")
_SINGLE = {"schedule": "schedules", "holiday": "holidays", "sla_policy": "sla_policies", "group": "groups"}


def _objects(body: Any, hint: str | None = None) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Each object of a response with the list it came in (`schedules`...), if any."""
    if isinstance(body, list):
        for item in body:
            yield from _objects(item, hint)
        return
    if not isinstance(body, dict):
        return
    for key in _LISTS:
        value = body.get(key)
        if isinstance(value, list) and not (key == "business_hours" and "time_zone" in body):
            yield from ((key, o) for o in value if isinstance(o, dict))
            return
        if key == "data" and isinstance(value, dict) and isinstance(value.get("payload"), list):
            yield from (("payload", o) for o in value["payload"] if isinstance(o, dict))
            return
    for key, kind in _SINGLE.items():
        if isinstance(body.get(key), dict):
            yield kind, body[key]
            return
    yield hint, body


def _owner_id(name: str) -> str | None:
    """The schedule a saved holidays page belongs to: the last number in its name."""
    found = re.findall(r"\d+", name.rsplit("/", 1)[-1])
    return found[-1] if found else None


def _sort(vendor: str, pages: Pages) -> Found:
    out = Found()
    for name, body in pages:
        for kind, obj in _objects(body):
            what = _kind(vendor, kind, obj)
            if what == "schedule":
                out.schedules.append(obj)
            elif what == "holiday":
                owner = obj.get("office_hours_schedule_id") or _owner_id(name)
                out.holidays.setdefault(None if owner is None else str(owner), []).append(obj)
            elif what == "policy":
                out.policies.append(obj)
            elif what == "group":
                out.groups.append(obj)
            else:
                out.other += 1
    return out


def _kind(vendor: str, hint: str | None, o: dict[str, Any]) -> str | None:
    if vendor == "zendesk":
        if hint == "schedules" or ("intervals" in o and "time_zone" in o):
            return "schedule"
        if hint == "holidays" or ("start_date" in o and "end_date" in o):
            return "holiday"
        if hint == "sla_policies" or "policy_metrics" in o:
            return "policy"
        return "group" if hint == "groups" else None
    if vendor == "freshdesk":
        if "business_hours" in o and "time_zone" in o:
            return "schedule"
        if "sla_target" in o:
            return "policy"
        return "group" if "name" in o and ("agent_ids" in o or "business_hour_id" in o) else None
    if vendor == "intercom":
        return {"office_hours_schedule": "schedule", "office_hours_exception": "holiday"}.get(str(o.get("type")))
    if "channel_type" in o or "working_hours" in o:
        return "schedule"
    return "policy" if "only_during_business_hours" in o or any(k.endswith("_threshold") for k in o) else None


# -- converting ---------------------------------------------------------------------------------


def convert(vendor: str, pages: Pages, *, today: date | None = None, notes: Iterable[str] = ()) -> Carried:
    """Turn a vendor's configuration responses into our schedules and policies."""
    if vendor not in VENDORS:
        raise UserError(f"'{vendor}' is not a help desk whose configuration we read; known: {', '.join(VENDORS)}.")
    found = _sort(vendor, pages)
    warn = Warnings(notes)
    years = range((today or date.today()).year - 1, (today or date.today()).year + 3)
    try:
        schedules, policies = CONVERT[vendor](found, warn, years)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a field missing or of another type
        raise UserError(f"The {vendor} configuration is not shaped as its API returns it ({type(exc).__name__}: "
                        f"{exc}); save each response as it comes (docs/connectors.md, \"Configuration carried "
                        "over\").") from None
    if found.other:
        warn(f"{found.other} object(s) were not {vendor} configuration (tickets, users...?) and were skipped.")
    read = {"schedules": len(found.schedules), "holidays": sum(map(len, found.holidays.values())),
            "sla_policies": len(found.policies), "groups": len(found.groups)}
    return Carried(vendor, schedules, policies, tuple(warn), read)


# -- the workspace --------------------------------------------------------------------------------


def carry_over(folder: str | os.PathLike[str], vendor: str, *, source: str | os.PathLike[str] | None = None,
               settings: Settings | None = None, write: bool = False, today: date | None = None,
               transport: Any = None) -> CarryOver:
    """Read `vendor`'s configuration (its API, or the saved responses at `source`), turn
    it into schedules.toml and sla.toml content, and compare it with the workspace's
    files; with `write`, write them (an existing file is kept as NAME.bak), after
    checking that they load with our own loaders."""
    folder = Path(folder)
    notes: list[str] = []
    if source is not None:
        if not Path(source).exists():
            raise UserError(f"--from {source}: no such file or folder; give the folder of saved API responses.")
        pages = read_files(source)
    else:
        if settings is None:
            from cxmetrics._workspace import SETTINGS_FILE

            settings = Settings.load(folder / SETTINGS_FILE)
        pages, notes = read_api(settings, vendor, transport=transport)
    carried = convert(vendor, pages, today=today, notes=notes)
    plans = []
    for name, text in ((SCHEDULES_FILE, carried.schedules_toml()), (POLICY_FILE, carried.sla_toml())):
        if text is not None:
            path = folder / name
            plans.append(FilePlan(name, text, path.read_text(encoding="utf-8") if path.exists() else None))
    if write:
        plans = _write(folder, plans)
    return CarryOver(carried, tuple(plans))


def _write(folder: Path, plans: list[FilePlan]) -> list[FilePlan]:
    texts = {p.name: p.new for p in plans}
    # check both files as the workspace will read them before touching either
    ss = ScheduleSet.from_toml(texts[SCHEDULES_FILE]) if SCHEDULES_FILE in texts else \
        ScheduleSet.load(folder / SCHEDULES_FILE)
    if POLICY_FILE in texts:
        policies = SlaPolicies.loads(texts[POLICY_FILE])
        missing = sorted(policies.schedules() - set(ss.names))
        if missing:
            raise UserError(f"sla.toml names schedule(s) {', '.join(missing)} that schedules.toml lacks.")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in plans:
        if not p.changed:
            out.append(p)
            continue
        path, backup = folder / p.name, None
        if p.old is not None:
            backup = path.with_name(p.name + ".bak")
            backup.write_text(p.old, encoding="utf-8")
        tmp = path.with_name(p.name + ".tmp")
        tmp.write_text(p.new, encoding="utf-8")
        tmp.replace(path)  # whole or not at all
        out.append(FilePlan(p.name, p.new, p.old, written=True, backup=backup))
    return out


def report(result: CarryOver) -> str:
    """What `cxmetrics sync VENDOR --config` prints."""
    c = result.carried
    lines = [f"{c.vendor} configuration read: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in c.read.items())]
    for p in result.files:
        if p.old is None:
            lines += ["", f"--- {p.name} (new; the workspace has none) ---", p.new.rstrip("\n")]
        elif not p.changed:
            lines += ["", f"--- {p.name}: unchanged ---"]
        else:
            lines += ["", f"--- {p.name}: changes ---", p.diff().rstrip("\n")]
    for name in (SCHEDULES_FILE, POLICY_FILE):
        if name not in {p.name for p in result.files}:
            lines += ["", f"--- {name}: nothing to carry over; left as it is ---"]
    if c.warnings:
        lines += ["", "Not carried over (check these by hand):"] + [f"  - {w}" for w in c.warnings]
    written = [p for p in result.files if p.written]
    lines.append("")
    if written:
        lines += [f"wrote {p.name}" + (f" (the previous one is {p.backup.name})" if p.backup else "") for p in written]
    elif any(p.changed for p in result.files):
        lines.append("Nothing written: run again with --write to write these (an existing file is kept as .bak).")
    else:
        lines.append("Nothing to write: the workspace already has this configuration.")
    return "\n".join(lines)


__all__ = ["CarryOver", "Carried", "FilePlan", "carry_over", "convert", "read_api", "read_files", "report"]
