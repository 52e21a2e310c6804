"""Discovered topics in the workspace (issue 13, item 1): `cxmetrics topics discover` gives
every ticket the topic of what it is about, kept as the `discovered_topic` dimension; the
same tickets and seed give the same topics; new tickets are assigned without re-clustering;
`--refit` reports splits, merges and new topics; a topic whose share rose significantly is
emerging. Every expected value below is counted by hand from the tickets written here."""

from __future__ import annotations

import io
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import UserError

pytest.importorskip("sklearn", reason="topic discovery needs the text extra: pip install 'cxmetrics[text]'")

from cxmetrics.text import discover_tickets
from cxmetrics.text._topics_refit import changes
from cxmetrics.text.topics import Topics

# three themes; "lost" and "stolen" are both about a card, so at k=2 they are one topic
THEMES = {
    "parcel": ["my parcel has not arrived yet", "the delivery of my parcel is late",
               "where is my parcel, delivery was due monday", "parcel delivery still not here",
               "courier never delivered my parcel", "late delivery, parcel missing"],
    "lost": ["I lost my card", "lost my card on the bus", "my card is lost, please help", "card lost abroad",
             "I think I lost my card yesterday", "lost card, what now"],
    "stolen": ["my card was stolen", "someone stole my card", "stolen card, block it", "card stolen from my wallet",
               "thief stole my card", "my card got stolen today"],
}
EVENTS = "event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,channel,body\n"


def _tickets(prefix: str, day: str, counts: dict[str, int]) -> list[tuple[str, str, str, str]]:
    """(ticket_id, day, theme, text): `counts[theme]` tickets of each theme, interleaved."""
    out = []
    left = dict(counts)
    i = 0
    while any(left.values()):
        for theme in THEMES:
            if left.get(theme):
                out.append((f"{prefix}{i:03d}", day, theme, THEMES[theme][(counts[theme] - left[theme]) % 6]))
                left[theme] -= 1
                i += 1
    return out


def _import(ws: cxmetrics.Workspace, path: Path, tickets: list[tuple[str, str, str, str]]) -> None:
    lines = [EVENTS]
    for tid, day, _theme, text in tickets:
        lines.append(f"{tid}-c,{tid},{day}T08:00:00Z,created,customer,C-{tid},,new,email,\n")
        lines.append(f'{tid}-m,{tid},{day}T08:00:01Z,message,customer,C-{tid},true,,,"{text}"\n')
    ws.import_file("events", write(path, "".join(lines)))


def _topic_of(ws: cxmetrics.Workspace) -> dict[str, str | None]:
    return {r["ticket_id"]: r["discovered_topic"]
            for r in ws.sql("SELECT ticket_id, discovered_topic FROM ticket_facts").to_pylist()}


def _partition(mapping: dict[str, object]) -> set[frozenset[str]]:
    groups: dict[object, set[str]] = {}
    for key, value in mapping.items():
        groups.setdefault(value, set()).add(key)
    return {frozenset(g) for g in groups.values()}


def _run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


EIGHTEEN = _tickets("T", "2025-03-03", {"parcel": 6, "lost": 6, "stolen": 6})
THEME_OF = {tid: theme for tid, _, theme, _ in EIGHTEEN}
TEXT_OF = {tid: text for tid, _, _, text in EIGHTEEN}


@pytest.fixture
def eighteen(ws: cxmetrics.Workspace, tmp_path: Path) -> cxmetrics.Workspace:
    _import(ws, tmp_path / "e.csv", EIGHTEEN)
    return ws


def test_every_ticket_gets_the_topic_of_its_theme(eighteen: cxmetrics.Workspace) -> None:
    found = discover_tickets(eighteen, k=3)
    topic_of = _topic_of(eighteen)
    assert _partition(topic_of) == _partition(THEME_OF)
    # each topic is named by its theme's word, and holds its 6 tickets
    for name in set(topic_of.values()):
        themes = {THEME_OF[t] for t, n in topic_of.items() if n == name}
        assert len(themes) == 1 and themes.pop() in name
    by_topic = eighteen.metrics(["tickets"], by="discovered_topic").to_pylist()
    counts = {r["discovered_topic"]: r["value"] for r in by_topic}
    assert sorted(counts.values()) == [6, 6, 6] and set(counts) == set(topic_of.values())
    assert (found.k, found.clustered, found.assigned) == (3, 18, 18)
    # the topics kept: the example is the text of the ticket it names, in that topic
    kept = eighteen.sql("SELECT * FROM text_topics ORDER BY topic_id").to_pylist()
    assert [(t["topic_id"], t["name"], t["size"]) for t in kept] == [(t.id, t.name, 6) for t in found.topics]
    for t in kept:
        assert TEXT_OF[t["example_ticket"]] == t["example"] and topic_of[t["example_ticket"]] == t["name"]
    # the model kept is the active one, and ticket_text says which model gave each topic
    models = eighteen.sql("SELECT model_id, kind, active FROM text_models").to_pylist()
    assert models == [{"model_id": found.model_id, "kind": "topics", "active": True}]
    assert eighteen.sql("SELECT DISTINCT topic_model FROM ticket_text").to_pylist() == [{"topic_model": found.model_id}]


def test_the_same_tickets_and_seed_give_the_same_topics_and_ids(tmp_path: Path) -> None:
    got = []
    for n, order in enumerate((EIGHTEEN, EIGHTEEN[::-1])):  # imported in another order
        with cxmetrics.open(tmp_path / f"ws{n}", create=True) as ws:
            _import(ws, tmp_path / f"e{n}.csv", order)
            discover_tickets(ws, k=3, seed=5)
            got.append(ws.sql("SELECT ticket_id, topic_id, discovered_topic FROM ticket_text ORDER BY ticket_id")
                       .to_pylist())
    assert got[0] == got[1] and len(got[0]) == 18


def test_new_tickets_are_assigned_to_the_topics_kept(eighteen: cxmetrics.Workspace, tmp_path: Path) -> None:
    found = discover_tickets(eighteen, k=3)
    name_of = {THEME_OF[t]: n for t, n in _topic_of(eighteen).items()}
    # 2 more of each theme, another day: no new clustering, each goes to its theme's topic
    more = _tickets("N", "2025-03-04", {"parcel": 2, "lost": 2, "stolen": 2})
    _import(eighteen, tmp_path / "more.csv", more)
    res = _run("--workspace", str(eighteen.path), "metrics", "tickets", "--by", "discovered_topic",
               "--format", "json")
    assert res.exit_code == 0, res.output
    import json

    counts = {r["discovered_topic"]: r["value"] for r in json.loads(res.output)}
    assert counts == {name_of["parcel"]: 8, name_of["lost"]: 8, name_of["stolen"]: 8}  # 6 + 2 each
    topic_of = _topic_of(eighteen)
    assert all(topic_of[tid] == name_of[theme] for tid, _, theme, _ in more)
    assert [r["model_id"] for r in eighteen.sql("SELECT model_id FROM text_models").to_pylist()] == [found.model_id]
    assert [r["size"] for r in eighteen.sql("SELECT size FROM text_topics").to_pylist()] == [6, 6, 6]  # as found


def test_a_ticket_refreshed_for_another_reason_keeps_its_topic(eighteen: cxmetrics.Workspace, tmp_path: Path) -> None:
    discover_tickets(eighteen, k=3)
    before = _topic_of(eighteen)
    # an agent reply to T000: its facts are rebuilt, and its topic must survive that
    eighteen.import_file("events", write(tmp_path / "reply.csv", EVENTS +
                                         "T000-r,T000,2025-03-03T09:00:00Z,message,agent,A1,true,,,We are on it\n"))
    assert eighteen.metrics(["tickets"]).to_pylist()[0]["value"] == 18  # (refreshes the facts)
    assert _topic_of(eighteen) == before and before["T000"] is not None


def test_only_the_period_is_clustered_but_every_ticket_is_assigned(ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    tickets = (_tickets("A", "2025-03-03", {"parcel": 3, "lost": 3, "stolen": 3})
               + _tickets("B", "2025-03-10", {"parcel": 4, "lost": 4, "stolen": 4}))
    _import(ws, tmp_path / "e.csv", tickets)
    found = discover_tickets(ws, k=3, start="2025-03-10", end="2025-03-11")
    assert (found.clustered, found.assigned) == (12, 21)
    assert _partition(_topic_of(ws)) == _partition({t: theme for t, _, theme, _ in tickets})
    params = ws.sql("SELECT params FROM text_models").to_pylist()[0]["params"]
    assert '"from": "2025-03-10"' in params and '"clustered": 12' in params


def test_refit_reports_the_card_topic_split_in_two_then_merged_back(eighteen: cxmetrics.Workspace) -> None:
    first = discover_tickets(eighteen, k=2)
    card = {t for t, theme in THEME_OF.items() if theme != "parcel"}
    assert _partition(_topic_of(eighteen)) == {frozenset(card), frozenset(set(THEME_OF) - card)}
    old_id = {n: t.id for t in first.topics for n in [t.name]}
    old_card = old_id[_topic_of(eighteen)["T001"]]  # T001 is a "lost" ticket
    old_parcel = 1 - old_card

    second = discover_tickets(eighteen, k=3, refit=True)
    new_id = {t.name: t.id for t in second.topics}
    topic_of = _topic_of(eighteen)
    lost, stolen, parcel = (new_id[topic_of[t]] for t in ("T001", "T002", "T000"))
    # the card topic's 12 tickets: 6 to "lost", 6 to "stolen" (50% each); the parcel topic kept whole
    assert second.replaced == first.model_id
    assert {(c.change, c.old, c.new, c.tickets) for c in second.changes} == {
        ("split", (old_card,), tuple(sorted((lost, stolen))), 12), ("kept", (old_parcel,), (parcel,), 6)}
    split = next(c for c in second.changes if c.change == "split")
    assert "50%" in split.note and "of its 12 tickets" in split.note

    third = discover_tickets(eighteen, k=2, refit=True)
    topic_of = _topic_of(eighteen)
    card_now = {t.name: t.id for t in third.topics}[topic_of["T001"]]
    assert {(c.change, c.old, c.new, c.tickets) for c in third.changes} == {
        ("merged", tuple(sorted((lost, stolen))), (card_now,), 12), ("kept", (parcel,), (1 - card_now,), 6)}
    # three models kept, the last one active and the one every ticket's topic comes from
    models = eighteen.sql("SELECT model_id, active FROM text_models ORDER BY created_at").to_pylist()
    assert [m["active"] for m in models] == [False, False, True] and models[-1]["model_id"] == third.model_id
    assert eighteen.sql("SELECT DISTINCT topic_model FROM ticket_text").to_pylist() == [{"topic_model": third.model_id}]


def test_appeared_and_disappeared_by_the_thresholds() -> None:
    old = {0: "refund", 1: "login", 2: "billing", 3: "gone"}
    new = {0: "refund", 1: "billing", 2: "a", 3: "b", 4: "c"}
    # old 1's 10 tickets scatter, 2 to each of 5 new topics (20% < a quarter each); old 3 has none left
    flows = [(0, 0, 10), *((1, n, 2) for n in range(5)), (2, 1, 9), (2, 2, 1)]
    got = [(c.change, c.old, c.new, c.tickets) for c in changes(flows, old, new)]
    assert got == [("kept", (0,), (0,), 10), ("disappeared", (1,), (), 10), ("kept", (2,), (1,), 9),
                   ("disappeared", (3,), (), 0), ("appeared", (), (2,), 3), ("appeared", (), (3,), 2),
                   ("appeared", (), (4,), 2)]
    # a quarter exactly still counts as going there: old 0 splits 5/5/10 -> 25%, 25%, 50%
    three = [(c.change, c.new) for c in changes([(0, 0, 5), (0, 1, 5), (0, 2, 10)], {0: "x"}, {0: "a", 1: "b", 2: "c"})]
    assert three == [("split", (2, 0, 1))]


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_a_topic_whose_share_rose_significantly_is_emerging(ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    # week 1: 20 parcel, 20 lost (50% each); week 2: 10 parcel, 40 lost (20% / 80%)
    tickets = (_tickets("W", "2025-03-04", {"parcel": 20, "lost": 20})
               + _tickets("X", "2025-03-11", {"parcel": 10, "lost": 40}))
    _import(ws, tmp_path / "e.csv", tickets)
    discover_tickets(ws, k=2)
    rows = {r["topic"]: r for r in ws.topics(start="2025-03-10", end="2025-03-17", discovered=True).to_pylist()}
    lost = next(r for name, r in rows.items() if "lost" in name)
    parcel = next(r for name, r in rows.items() if "parcel" in name)
    assert (lost["tickets"], lost["share"], lost["share_before"]) == (40, 80.0, 50.0)
    assert (parcel["tickets"], parcel["share"], parcel["share_before"]) == (10, 20.0, 50.0)
    # by hand: Newcombe's interval for 0.8 - 0.5: its lower bound is above 0
    lo_b, _ = _wilson(40, 50)
    _, hi_a = _wilson(20, 40)
    assert 0.3 - math.hypot(0.8 - lo_b, hi_a - 0.5) > 0
    assert lost["emerging"] is True and parcel["emerging"] is False
    res = _run("--workspace", str(ws.path), "topics", "--from", "2025-03-10", "--to", "2025-03-17", "--discovered")
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "lost" in x)
    assert line.rstrip().endswith("emerging") and "emerging" not in next(x for x in res.output.splitlines()
                                                                          if "parcel" in x)


def test_topics_that_grow_with_the_volume_are_not_emerging(ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    # both topics triple (10 -> 30): the counts rose significantly, the shares stayed at 50%
    tickets = (_tickets("W", "2025-03-04", {"parcel": 10, "lost": 10})
               + _tickets("X", "2025-03-11", {"parcel": 30, "lost": 30}))
    _import(ws, tmp_path / "e.csv", tickets)
    discover_tickets(ws, k=2)
    rows = ws.topics(start="2025-03-10", end="2025-03-17", discovered=True).to_pylist()
    assert [(r["tickets"], r["change"], r["significant"], r["share"], r["emerging"]) for r in rows] == [
        (30, 20.0, True, 50.0, False), (30, 20.0, True, 50.0, False)]


def test_the_help_desk_topics_still_rank_as_before(ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    lines = ["event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,channel,topic\n"]
    for i in range(30):
        day, topic = ("2025-03-04", "billing") if i < 10 else ("2025-03-11", "billing" if i < 15 else "login")
        lines.append(f"E{i},T{i},{day}T10:00:00Z,created,customer,C{i},,new,email,{topic}\n")
    ws.import_file("events", write(tmp_path / "e.csv", "".join(lines)))
    rows = {r["topic"]: r for r in ws.topics(start="2025-03-10", end="2025-03-17").to_pylist()}
    # login: 0 -> 15 of 20 (share 0% -> 75%): emerging; billing 10 -> 5 (100% -> 25%): not
    login = rows["login"]
    assert (login["tickets"], login["flags"], login["emerging"]) == (15, ["no_data_before"], True)
    assert (rows["billing"]["before"], rows["billing"]["emerging"]) == (10.0, False)
    with pytest.raises(UserError, match="topics discover"):
        ws.topics(start="2025-03-10", end="2025-03-17", discovered=True)


def test_the_api_answers_discovered_topics_and_refuses_them_before_discovery(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = tmp_path / "ws"
    with cxmetrics.open(path, create=True) as ws:
        _import(ws, tmp_path / "e.csv", _tickets("W", "2025-03-04", {"parcel": 20, "lost": 20})
                + _tickets("X", "2025-03-11", {"parcel": 10, "lost": 40}))
    app = create_app(path)
    _, key = create_key(app.state.workspace, "test", "admin")
    params = {"from": "2025-03-10", "to": "2025-03-17", "discovered": "true"}
    with TestClient(app) as client:
        refused = client.get("/api/v1/topics", params=params, headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 400
        error = refused.json()["error"]  # the API's one error shape
        assert (error["status"], error["code"]) == (400, "bad_request") and "topics discover" in error["message"]
        discover_tickets(app.state.workspace, k=2)
        rows = client.get("/api/v1/topics", params=params, headers={"Authorization": f"Bearer {key}"}).json()["rows"]
    assert sorted((r["tickets"], r["emerging"]) for r in rows) == [(10, False), (40, True)]


def test_cli_discover_prints_the_topics_and_refuses_a_second_run_without_refit(eighteen: cxmetrics.Workspace) -> None:
    w = str(eighteen.path)
    res = _run("--workspace", w, "topics", "discover", "--k", "3")
    assert res.exit_code == 0, res.output
    assert "3 topics from 18 tickets; 18 tickets with text assigned" in res.output
    for word in ("parcel", "lost", "stolen"):
        assert any(word in line and line.split()[1] == "6" for line in res.output.splitlines()), word
    again = _run("--workspace", w, "topics", "discover", "--k", "3")
    assert again.exit_code == 1 and "UserError: " in again.output and "--refit" in again.output
    refit = _run("--workspace", w, "topics", "discover", "--k", "2", "--refit")
    assert refit.exit_code == 0, refit.output
    assert "merged" in refit.output and "kept" in refit.output


@pytest.mark.parametrize(("args", "message"), [
    (["--k", "3", "--auto"], "give either --k N"),
    ([], "give either --k N"),
    (["--k", "30"], "k=30 topics asked for 18 texts"),
    (["--k", "3", "--from", "2025-03-05", "--to", "2025-03-04"], "ends before it starts"),
    (["--k", "3", "--from", "2030-01-01"], "0 ticket(s) with text created in [2030-01-01"),
    (["--k", "3", "--from", "March"], "'March' is not a date"),
])
def test_cli_discover_errors_name_the_value_and_the_fix(eighteen: cxmetrics.Workspace, args: list[str],
                                                        message: str) -> None:
    res = _run("--workspace", str(eighteen.path), "topics", "discover", *args)
    assert res.exit_code == 1 and res.output.startswith("UserError: ") and message in res.output, res.output


def test_cli_topics_errors(ws: cxmetrics.Workspace, tmp_path: Path) -> None:
    w = str(ws.path)
    none = _run("--workspace", w, "topics", "discover", "--k", "2")
    assert none.exit_code == 1 and "no ticket in this workspace has text" in none.output
    _import(ws, tmp_path / "e.csv", EIGHTEEN)
    missing = _run("--workspace", w, "topics", "--to", "2025-03-10")  # as before: --from is required
    assert missing.exit_code == 2 and "Missing option '--from'" in missing.output
    before = _run("--workspace", w, "topics", "--from", "2025-03-01", "--to", "2025-03-10", "--discovered")
    assert before.exit_code == 1 and before.output.startswith("UserError: no topics have been discovered")
    mixed = _run("--workspace", w, "topics", "--from", "2025-03-01", "discover", "--k", "2")
    assert mixed.exit_code == 2 and "cxmetrics topics discover --from D" in mixed.output


def test_the_model_is_kept_without_pickle_and_assigns_as_the_tickets_were(eighteen: cxmetrics.Workspace) -> None:
    discover_tickets(eighteen, k=3)
    payload = bytes(eighteen.sql("SELECT payload FROM text_models").to_pylist()[0]["payload"])
    with np.load(io.BytesIO(payload), allow_pickle=False) as saved:  # no object arrays: nothing to unpickle
        assert all(saved[name].dtype != object for name in saved.files)
    model = Topics.from_bytes(payload)
    rows = eighteen.sql("SELECT ticket_id, topic_id FROM ticket_text ORDER BY ticket_id").to_pylist()
    assert model.assign([TEXT_OF[r["ticket_id"]] for r in rows]) == [r["topic_id"] for r in rows]
    again = Topics.from_bytes(model.to_bytes())  # a model read back saves as it was read
    assert again.topics == model.topics and again.assign(list(TEXT_OF.values())) == model.assign(list(TEXT_OF.values()))
    with pytest.raises(UserError, match="not a saved topic model"):
        Topics.from_bytes(b"not a model")


def test_without_scikit_learn_new_tickets_wait_and_nothing_breaks(eighteen: cxmetrics.Workspace, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from cxmetrics.text import _topics_facts

    discover_tickets(eighteen, k=3)
    monkeypatch.setattr(_topics_facts, "_loaded", {})
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now fails
    _import(eighteen, tmp_path / "more.csv", _tickets("N", "2025-03-04", {"parcel": 1}))
    eighteen.refresh()
    topic_of = _topic_of(eighteen)
    assert topic_of["N000"] is None and all(topic_of[t] is not None for t in THEME_OF)


def test_a_model_that_cannot_be_read_stops_nothing_and_a_refit_replaces_it(eighteen: cxmetrics.Workspace,
                                                                           tmp_path: Path) -> None:
    from cxmetrics.text import _topics_facts

    discover_tickets(eighteen, k=3)
    eighteen.con.execute("UPDATE text_models SET payload = 'garbage'::BLOB")  # e.g. written by a later version
    _topics_facts._loaded.clear()
    _import(eighteen, tmp_path / "more.csv", _tickets("N", "2025-03-04", {"lost": 1}))
    assert eighteen.metrics(["tickets"]).to_pylist()[0]["value"] == 19  # queries still run
    assert _topic_of(eighteen)["N000"] is None
    found = discover_tickets(eighteen, k=3, refit=True)
    topic_of = _topic_of(eighteen)
    assert found.assigned == 19 and topic_of["N000"] == topic_of["T001"]  # both about a lost card


def test_consistency_is_recomputed_within_the_new_topics(eighteen: cxmetrics.Workspace, tmp_path: Path) -> None:
    # every ticket answered and solved: consistency compares the answers within each discovered
    # topic, so each discovery (and refit) must leave its rows on the model now active
    lines = ["event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,body\n"]
    for tid in THEME_OF:
        lines.append(f"{tid}-a,{tid},2025-03-03T09:00:00Z,message,agent,A1,true,,We have looked into it for you.\n")
        lines.append(f"{tid}-s,{tid},2025-03-03T09:01:00Z,status,agent,A1,,solved,\n")
    eighteen.import_file("events", write(tmp_path / "answers.csv", "".join(lines)))
    for k, refit in ((3, False), (2, True)):
        found = discover_tickets(eighteen, k=k, refit=refit)
        rows = eighteen.sql("SELECT DISTINCT topic_model, count(*) OVER () AS n FROM resolution_answers").to_pylist()
        assert rows == [{"topic_model": found.model_id, "n": 18}], (k, rows)


@pytest.mark.slow
def test_banking77_in_a_workspace_matches_the_library(tmp_path: Path) -> None:
    # real texts (3,080 queries, 77 intents): the workspace's topics are the library's, every
    # ticket assigned to its nearest topic; they may differ from k-means' own labels only at
    # the borders, and must score as discover() does against the intents
    from realdata._data import data_file

    path = data_file("banking77_intents", "test.csv")
    if not path.exists():
        pytest.skip(f"BANKING77 not found at {path} (../shared/data)")
    import csv

    from sklearn.metrics import normalized_mutual_info_score

    from cxmetrics.text import discover

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = ["event_id,ticket_id,ts,kind,actor_type,actor_id,public,body\n"]
    for i, r in enumerate(rows):
        text = r["text"].replace('"', '""')
        lines.append(f"B{i:04d}-m,B{i:04d},2025-03-03T08:00:00Z,message,customer,C{i},true,\"{text}\"\n")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("events", write(tmp_path / "b77.csv", "".join(lines)))
        discover_tickets(ws, k=77)
        got = {r["ticket_id"]: r["topic_id"] for r in ws.sql("SELECT ticket_id, topic_id FROM ticket_text").to_pylist()}
    ours = [got[f"B{i:04d}"] for i in range(len(rows))]
    library = discover([r["text"] for r in rows], k=77).labels
    assert sum(a == b for a, b in zip(ours, library, strict=True)) >= 0.95 * len(rows)
    truth = [r["category"] for r in rows]
    assert normalized_mutual_info_score(truth, ours) >= 0.64  # the library reaches 0.667


def test_the_server_takes_the_text_facts_in_parts_of_a_few_imports(eighteen: cxmetrics.Workspace,
                                                                    tmp_path: Path) -> None:
    """The server's text pass goes a few imports at a time (`refresh_part`), so that writes get
    in between (api/_refresher.py): each part scores the tickets of the oldest imports the facts
    already reflect, notes only those, and says whether more are behind."""
    from cxmetrics.text._store import refresh_part

    discover_tickets(eighteen, k=3)
    name_of = {THEME_OF[t]: n for t, n in _topic_of(eighteen).items()}
    batches = {p: _tickets(p, "2025-03-04", {"parcel": 1, "lost": 1, "stolen": 1}) for p in "ABC"}
    for p, tickets in batches.items():
        _import(eighteen, tmp_path / f"{p}.csv", tickets)  # 6 rows each: 3 tickets x created, message
    eighteen.refresh(text=False)  # the facts, as the server's refresh after each write
    _import(eighteen, tmp_path / "D.csv", _tickets("D", "2025-03-04", {"parcel": 1}))  # facts not refreshed yet

    def topics() -> dict[str, str | None]:  # (read without the refresh a query would do first)
        return dict(eighteen.con.execute("SELECT ticket_id, discovered_topic FROM ticket_facts "
                                         "WHERE ticket_id[1] IN ('A', 'B', 'C', 'D')").fetchall())

    assert set(topics().values()) == {None}
    want = {tid: name_of[theme] for tickets in batches.values() for tid, _, theme, _ in tickets}
    assert refresh_part(eighteen, max_rows=6) is True  # A's import alone: two more behind
    assert {t: n for t, n in topics().items() if n} == {t: n for t, n in want.items() if t[0] == "A"}
    assert refresh_part(eighteen, max_rows=12) is False  # B's and C's (12 rows); D waits for its facts
    assert topics() == want
    eighteen.refresh(text=False)
    assert refresh_part(eighteen) is False and topics()["D000"] == name_of["parcel"]
    pending = eighteen.con.execute("SELECT count(*) FROM imports WHERE import_id NOT IN "
                                   "(SELECT import_id FROM text_state)").fetchall()[0][0]
    assert pending == 0
