"""Help-desk requesters become `customers` rows (issue 16, "Address" and "Language": a survey
e-mail needs the customer's address and language). Every expected row below is read off the
fixture JSON by hand (fixtures/*/README.md say what each file follows); the sync tests compare
with the datasets the fakes serve."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from _connector_helpers import reconciles
from _fake_api import serve
from conftest import rows, write

import cxmetrics
from cxmetrics.connectors import import_chatwoot, import_freshdesk, import_intercom, import_zendesk, sync

FIXTURES = Path(__file__).parent / "fixtures"
COLS = "customer_id, email, locale, name, created_at, tier, region, segment, churned_at"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _customers(ws: cxmetrics.Workspace, source: str) -> dict[str, tuple[Any, ...]]:
    got = rows(ws, f"SELECT {COLS} FROM customers WHERE source = '{source}' ORDER BY customer_id")
    return {r[0]: tuple(r[1:]) for r in got}


# (email, locale, name, created_at, tier, region, segment, churned_at) per requester id
EXPECTED = {
    # users.json: end users 1001 and 1002 (agents 2001, 2002, 3001 are no customers; 105's
    # requester 1003 is on no users page, so nothing is known of it and it gets no row)
    "zendesk": (import_zendesk, {
        "1001": ("alice@example.com", "de", "Alice Customer", _utc(2024, 1, 10, 10), None, None, None, None),
        "1002": ("bob@example.com", "en-US", "Bob Customer", _utc(2024, 2, 11, 10), None, None, None, None),
    }),
    # contacts.json: `language` is the locale
    "freshdesk": (import_freshdesk, {
        "7001": ("alice@example.com", "en", "Alice Customer", _utc(2024, 1, 10, 10), None, None, None, None),
        "7002": ("bob@example.com", "en", "Bob Customer", _utc(2024, 2, 11, 10), None, None, None, None),
    }),
    # contacts.json: c-1 has no language_override, so its browser_language; c-2's override wins
    # over its browser's; c-3 (a lead) has no e-mail, name or language. created_at 1740000000 is
    # 2025-02-19 21:20 UTC, 1741446000 is 2025-03-08 15:00 UTC
    "intercom": (import_intercom, {
        "c-1": ("joe@example.com", "en", "Joe Bloggs", _utc(2025, 2, 19, 21, 20), None, None, None, None),
        "c-2": ("mia@example.com", "de", "Mia Chen", _utc(2025, 2, 19, 21, 20), None, None, None, None),
        "c-3": (None, None, None, _utc(2025, 3, 8, 15), None, None, None, None),
    }),
    # conversations' meta.sender: 41's widget recorded browser_language pt-BR; the senders carry
    # no created_at, and 503 (a WhatsApp contact) no e-mail
    "chatwoot": (import_chatwoot, {
        "501": ("rui@example.org", "pt-BR", "Rui Costa", None, None, None, None, None),
        "502": ("dana@example.org", None, "Dana Park", None, None, None, None, None),
        "503": (None, None, "Lee Wong", None, None, None, None, None),
        "504": (None, None, "Sam Ito", None, None, None, None, None),
    }),
}


@pytest.mark.parametrize("vendor", sorted(EXPECTED))
def test_each_help_desk_fills_what_it_has(tmp_path: Path, vendor: str) -> None:
    importer, expected = EXPECTED[vendor]
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        summary = importer(ws, FIXTURES / vendor)
        reconciles(summary)
        s = summary.tables["customers"]
        assert (s.read, s.inserted, s.quarantined) == (len(expected), len(expected), 0)
        assert _customers(ws, vendor) == expected
        # the requester ids tickets use are the customers' ids (what a survey looks the address up by)
        requesters = {r[0] for r in rows(ws, "SELECT DISTINCT requester_id FROM tickets")}
        assert set(expected) <= requesters
        # importing the same files again changes nothing
        again = importer(ws, FIXTURES / vendor).tables["customers"]
        assert (again.read, again.unchanged) == (len(expected), len(expected))
        assert _customers(ws, vendor) == expected


def test_a_crms_columns_and_signup_time_stay(tmp_path: Path) -> None:
    # a CRM's customers imported under the help desk's source (so tier joins the tickets): the
    # help desk adds the e-mail, locale and name, and never blanks tier, region, segment, churn
    # nor replaces the CRM's signup time with the day the help-desk user was made
    crm = write(tmp_path / "crm.csv", "customer_id,created_at,tier,region,segment,churned_at\n"
                "1001,2023-06-01T00:00:00Z,gold,EU,smb,\n1002,2023-07-01T00:00:00Z,free,US,,2025-01-05T00:00:00Z\n")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("customers", crm, source="zendesk")
        summary = import_zendesk(ws, FIXTURES / "zendesk")
        reconciles(summary)
        assert (summary.tables["customers"].updated, summary.tables["customers"].inserted) == (2, 0)
        assert _customers(ws, "zendesk") == {
            "1001": ("alice@example.com", "de", "Alice Customer", _utc(2023, 6, 1), "gold", "EU", "smb", None),
            "1002": ("bob@example.com", "en-US", "Bob Customer", _utc(2023, 7, 1), "free", "US", None,
                     _utc(2025, 1, 5)),
        }


def test_a_partial_requester_never_blanks_a_contacts_columns(tmp_path: Path) -> None:
    # Freshdesk's include=requester gives only id, name, email, mobile and phone: the locale and
    # created_at a contacts page gave stay; the newer e-mail replaces the old one
    contacts = FIXTURES / "freshdesk" / "contacts.json"
    ticket = {"id": 901, "created_at": "2025-03-20T10:00:00Z", "status": 2, "priority": 1, "source": 1,
              "requester_id": 7001, "requester": {"id": 7001, "name": "Alice Customer",
                                                  "email": "alice@new.example.com", "mobile": None, "phone": None}}
    page = write(tmp_path / "tickets.json", json.dumps([ticket]))
    alice = ("alice@new.example.com", "en", "Alice Customer", _utc(2024, 1, 10, 10), None, None, None, None)
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        reconciles(import_freshdesk(ws, contacts))
        later = import_freshdesk(ws, page)
        reconciles(later)
        s = later.tables["customers"]
        assert (s.read, s.updated) == (1, 1)
        assert _customers(ws, "freshdesk")["7001"] == alice
        assert import_freshdesk(ws, page).tables["customers"].unchanged == 1
    # both in one import: one row per requester, the contact's and the requester's columns together
    both = tmp_path / "both"
    both.mkdir()
    write(both / "1-contacts.json", contacts.read_text(encoding="utf-8"))
    write(both / "2-tickets.json", json.dumps([ticket]))
    with cxmetrics.open(tmp_path / "ws2", create=True) as ws:
        s = import_freshdesk(ws, both).tables["customers"]
        assert (s.read, s.inserted) == (2, 2)
        assert _customers(ws, "freshdesk")["7001"] == alice


def test_bad_values_are_quarantined_with_their_reason(tmp_path: Path) -> None:
    users = {"users": [
        {"id": 1, "role": "end-user", "name": "Ok Person", "email": "ok@example.com", "locale": "fr",
         "created_at": "2024-05-01T08:00:00Z"},
        {"id": 2, "role": "end-user", "name": "Bad Time", "email": "t@example.com", "created_at": "yesterday"},
        {"id": 3, "role": "end-user", "name": {"first": "Ann"}, "email": "a@example.com"},
    ]}
    page = write(tmp_path / "users.json", json.dumps(users))
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        s = import_zendesk(ws, page).tables["customers"]
        assert (s.read, s.inserted, s.quarantined) == (3, 1, 2)
        reasons = [r[0] for r in rows(ws, "SELECT reason FROM quarantine WHERE kind = 'customers' ORDER BY reason")]
        assert any("users[1]: created_at 'yesterday' is not an ISO 8601 time" in r for r in reasons), reasons
        assert any("users[2]: name {'first': 'Ann'} is not text" in r for r in reasons), reasons
        assert _customers(ws, "zendesk") == {
            "1": ("ok@example.com", "fr", "Ok Person", _utc(2024, 5, 1, 8), None, None, None, None)}


# -- live sync: the same rows from the pages a sync fetches ---------------------------------


def test_zendesk_sync_reads_the_exports_side_loaded_end_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_zendesk_api import ZendeskFake
    from test_zendesk_sync import EMAIL, TOKEN, TOKEN_ENV, Clock, _dataset, _workspace

    data = _dataset()  # end users 1001..1010 ("Customer k", ck@example.com), requesters of its 30 tickets
    for u in data.users:
        if u["id"] == 1003:
            u["locale"] = "es"
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    clock = Clock()
    with serve(ZendeskFake(data, email=EMAIL, token=TOKEN, page_cap=3, limit=(10, 60.0), clock=clock)) as url:
        ws_path = _workspace(tmp_path / "ws", url)
        with cxmetrics.open(ws_path) as ws:
            summary = sync(ws, "zendesk", sleep=clock.sleep)
            for s in summary.tables.values():
                assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined, s
            assert summary.tables["customers"].inserted == 10
            got = _customers(ws, "zendesk")
    assert sorted(got, key=int) == [str(1001 + k) for k in range(10)]
    assert got["1003"] == ("c3@example.com", "es", "Customer 3", _utc(2024, 1, 10, 10), None, None, None, None)
    assert got["1010"][:3] == ("c10@example.com", None, "Customer 10")


def test_freshdesk_sync_reads_the_tickets_requesters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_freshdesk_sync import CONTACTS, ENV, KEY, _fake, _no_sleep, _workspace, dataset

    monkeypatch.setenv(ENV, KEY)
    with serve(_fake(dataset())) as url:
        ws_path = _workspace(tmp_path / "ws", url)
        with cxmetrics.open(ws_path) as ws:
            summary = sync(ws, "freshdesk", sleep=_no_sleep)
            s = summary.tables["customers"]
            assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined
            got = _customers(ws, "freshdesk")
    # include=requester carries the e-mail and name; no language or created_at
    assert got == {str(k): (email, None, name, None, None, None, None, None) for k, (name, email) in CONTACTS.items()}


def test_intercom_sync_searches_the_pages_contacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a conversation names its contacts by id only: each page's are read by one contacts search
    from fake_intercom_api import FakeIntercom, dataset, lookups
    from test_intercom_sync import ENV, TOKEN, _no_sleep, _workspace

    contacts = json.loads((FIXTURES / "intercom" / "contacts.json").read_text(encoding="utf-8"))["data"]
    admins, teams = lookups()
    fake = FakeIntercom(dataset(6), admins, teams, token=TOKEN, page_size=4, contacts=contacts)
    monkeypatch.setenv(ENV, TOKEN)
    with serve(fake) as url, cxmetrics.open(_workspace(tmp_path / "ws", url), create=True) as ws:
        summary = sync(ws, "intercom", sleep=_no_sleep)
        s = summary.tables["customers"]
        assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined and s.quarantined == 0
        got = _customers(ws, "intercom")
    # 11 conversations (the fixture's 5 and 6 generated, all by c-1, c-2 or c-3), 4 a page: 3
    # pages, 3 searches, for the ids the pages name
    assert len(fake.contact_searches) == 3
    assert all(q["query"]["field"] == "id" and q["query"]["operator"] == "IN" for q in fake.contact_searches)
    assert {i for q in fake.contact_searches for i in q["query"]["value"]} == {"c-1", "c-2", "c-3"}
    assert got == EXPECTED["intercom"][1]


def test_chatwoot_sync_reads_the_conversations_contacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_chatwoot_sync import ENV, GENERATED, TOKEN, _fake, _served, _sync, _workspace

    monkeypatch.setenv(ENV, TOKEN)
    with _served(_fake()) as (url, _):
        ws_path = _workspace(tmp_path / "ws", url)
        summary = _sync(ws_path)
    s = summary.tables["customers"]
    assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined and s.quarantined == 0
    with cxmetrics.open(ws_path) as ws:
        got = _customers(ws, "chatwoot")
    # the fixture's four contacts as the file import has them, and generated conversation k's
    # contact 600 + k, "Customer k", with neither e-mail nor browser language
    expected = {**EXPECTED["chatwoot"][1],
                **{str(600 + cid - 100): (None, None, f"Customer {cid - 100}", None, None, None, None, None)
                   for cid in GENERATED}}
    assert got == expected


def test_requesters_alone_are_not_the_customer_base(tmp_path: Path) -> None:
    # a help desk never says a customer churned: its requesters counted as customers would make
    # churn 0% and CRR 100% out of nothing. They are marked origin = helpdesk and left out; a
    # customer a CRM file stored first stays a customer after the help desk adds its e-mail.
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        import_zendesk(ws, FIXTURES / "zendesk")
        assert rows(ws, "SELECT DISTINCT origin FROM customers") == [("helpdesk",)]
        assert [r["value"] for r in ws.metrics(["churn_rate", "crr"], start="2025-01-01", end="2026-01-01").to_pylist()] \
            == [None, None]
    crm = write(tmp_path / "crm.csv", "customer_id,created_at\n1001,2023-06-01T00:00:00Z\n")
    with cxmetrics.open(tmp_path / "ws2", create=True) as ws:
        ws.import_file("customers", crm, source="zendesk")
        import_zendesk(ws, FIXTURES / "zendesk")
        # 1001 (the CRM's) counts; 1002 (only the help desk's) does not: one customer, none lost
        got = ws.metrics(["churn_rate"], start="2025-01-01", end="2026-01-01").to_pylist()[0]
        assert (got["value"], got["n"]) == (0.0, 1)
