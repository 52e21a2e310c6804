"""The Support Performance Index (issue 15, item 2): hand-worked from the documented weights and
curves (docs/studies.md), the text-signal fallback, per-study overrides, the organisation's own
tickets, the bootstrap interval, the companies/probes import kinds and the CLI.
https://github.com/cxmetrics/cxmetrics/issues/15"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import SettingsError, UnknownNameError, UserError
from cxmetrics.studies._declaration import declaration
from cxmetrics.studies._spi import probe_scores, spi, spi_by, studies

# the documented defaults (README "The Support Performance Index"), written out by hand
W = {"availability": 15, "responsiveness": 20, "speed": 20, "personalised": 10, "relevant": 15, "thorough": 10,
     "empathetic": 10}
EMAIL, CHAT, PHONE = (3600, 86400), (60, 600), (20, 600)


def log_speed(seconds: float, fast: float, slow: float) -> float:
    """The documented curve: 100 at or under fast, 0 at or over slow, linear in log time."""
    if seconds <= fast:
        return 100.0
    if seconds >= slow:
        return 0.0
    return 100 * (math.log(slow) - math.log(seconds)) / (math.log(slow) - math.log(fast))


def weighted(**c: float) -> float:
    return sum(W[k] * v for k, v in c.items()) / sum(W[k] for k in c)


def put(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


COMPANIES = """company,industry,region,size,channels
Acme,retail,EMEA,51-200,"Email, Chat, Phone"
Bolt,retail,North America,1000+,email;chat;phone;social
"""

# Acme offers 3 of the study's 4 channels (not social) and answers 2 of its 3 probes, with rubric
# scores (the chat probe's on a 1-5 scale); Bolt is probed on social, so social is a study channel
PROBES = """probe_id,study,company,channel,sent_at,question,first_response_at,response_text,auto_reply,rubric_personalised,rubric_relevant,rubric_thorough,rubric_empathetic,rubric_scale
A-email,hw,Acme,E-mail,2025-03-03T09:00:00Z,Where is my order 4471?,2025-03-03T11:00:00Z,It ships today.,false,1,0.8,0.5,1,
A-chat,hw,Acme,Chat,2025-03-03T09:00:00Z,Can I change my plan?,2025-03-03T09:01:00Z,Yes: Settings > Plan.,false,1,5,5,3,1-5
A-phone,hw,Acme,phone,2025-03-03T09:00:00Z,Can I change my plan?,,,,,,,,
B-social,hw,Bolt,social,2025-03-04T09:00:00Z,Can I change my plan?,2025-03-04T09:30:00Z,,false,,,,,
"""
MAPPING = '[values.channel]\n"E-mail" = "email"\n'


@pytest.fixture
def study(ws: cxmetrics.Workspace, tmp_path: Path) -> cxmetrics.Workspace:
    assert ws.import_file("companies", put(tmp_path, "companies.csv", COMPANIES)).quarantined == 0
    summary = ws.import_file("probes", put(tmp_path, "probes.csv", PROBES), mapping=put(tmp_path, "m.toml", MAPPING))
    assert summary.to_dict()["inserted"] == 4 and summary.quarantined == 0
    return ws


def by_key(table, *keys):
    return {tuple(r[k] for k in keys): r for r in table.to_pylist()}


def test_hand_worked_company_available_on_3_of_4_channels_answering_2_of_3(study):
    s_email = log_speed(2 * 3600, *EMAIL)  # answered after 2 h: ln(24/2) / ln(24) of the way from slow
    email = weighted(availability=100, responsiveness=100, speed=s_email, personalised=100, relevant=80,
                     thorough=50, empathetic=100)
    chat = weighted(availability=100, responsiveness=100, speed=100, personalised=0, relevant=100, thorough=100,
                    empathetic=50)  # 60 s is chat's fast; rubric 1, 5, 5, 3 on 1-5 = 0, 1, 1, 0.5
    phone = weighted(availability=100, responsiveness=0, speed=0, personalised=0, relevant=0, thorough=0,
                     empathetic=0)  # ignored: 15
    assert phone == 15
    social = 0.0  # not offered, not probed: one unavailable probe
    assert round(s_email, 4) == round(100 * math.log(12) / math.log(24), 4)

    cells = by_key(spi(study, "hw"), "company", "channel")
    assert cells[("Acme", "email")]["spi"] == pytest.approx(email)
    assert cells[("Acme", "chat")]["spi"] == pytest.approx(chat)
    assert cells[("Acme", "phone")]["spi"] == pytest.approx(15)
    assert cells[("Acme", "social")]["spi"] == 0 and cells[("Acme", "social")]["n"] == 1
    assert cells[("Acme", "email")]["speed"] == pytest.approx(s_email)
    assert cells[("Acme", "email")]["median_response_s"] == 7200

    company = by_key(spi(study, "hw", by="company"), "company")["Acme",]
    assert company["spi"] == pytest.approx((email + chat + phone + social) / 4)
    assert company["spi"] == pytest.approx(46.9097, abs=1e-3)  # the same, worked out on paper
    assert company["n"] == 4 and company["answered_share"] == pytest.approx(2 / 4)
    assert company["availability"] == pytest.approx(75) and company["responsiveness"] == pytest.approx(50)
    assert company["relevant"] == pytest.approx((80 + 100 + 0 + 0) / 4)

    probes = by_key(probe_scores(study, "hw"), "probe_id")
    assert probes["A-email",]["criteria_from"] == "rubric" and probes["A-phone",]["criteria_from"] == "none"
    assert probes["A-phone",]["response_s"] is None and probes["A-phone",]["answered"] is False
    assert probes["A-chat",]["channel"] == "chat"  # lower-cased on import


def test_an_answer_without_text_or_rubric_is_scored_on_what_applies(study):
    # Bolt's social answer after 30 min has no text and no rubric: its criteria cannot be judged
    row = by_key(probe_scores(study, "hw"), "probe_id")["B-social",]
    assert row["personalised"] is None and row["criteria_from"] == "none"
    assert row["spi"] == pytest.approx(100.0)  # available, answered, 30 min is under social's fast 1 h
    assert by_key(spi(study, "hw", by=()), "study")["hw",]["n"] == 5


@pytest.mark.parametrize(("channel", "seconds", "expected"), [
    ("chat", 30, 100), ("chat", 60, 100), ("chat", 600, 0), ("chat", 3600, 0),
    ("chat", math.sqrt(60 * 600), 50),  # the geometric middle scores half
    ("chat", 60 * 10 ** 0.25, 75),
    ("email", 3600, 100), ("email", 86400, 0), ("email", math.sqrt(3600 * 86400), 50),
    ("phone", 20, 100), ("phone", math.sqrt(20 * 600), 50),
    ("sms", math.sqrt(3600 * 86400), 50),  # a channel not named: the `other` curve, 1 h to 24 h
])
def test_speed_curves_at_their_ends_and_middle(channel, seconds, expected):
    assert declaration().speed(channel, seconds) == pytest.approx(expected)


def test_speed_through_a_probe(ws, tmp_path):
    half = math.sqrt(60 * 600)  # 189.7 s
    ws.import_file("probes", put(tmp_path, "p.csv", (
        "probe_id,study,company,channel,sent_at,first_response_at\n"
        f"p1,s,X,chat,2025-01-01T00:00:00Z,2025-01-01T00:03:{half - 180:09.6f}Z\n")))
    row = probe_scores(ws, "s").to_pylist()[0]
    assert row["speed"] == pytest.approx(50, abs=1e-3)
    assert row["spi"] == pytest.approx((15 * 100 + 20 * 100 + 20 * 50) / 55, abs=1e-3)


def test_text_signal_fallback(ws, tmp_path):
    ws.import_file("probes", put(tmp_path, "p.csv", (
        "probe_id,study,company,channel,sent_at,question,first_response_at,response_text,auto_reply,rubric_empathetic\n"
        # greets by name, apologises, answers one of two questions, about the password: relevant
        't1,s,X,email,2025-01-01T09:00:00Z,"How do I reset my password? And can I change my email?",'
        '2025-01-01T09:30:00Z,"Hi Maria, sorry about that! To reset your password, open Settings > Security.",,\n'
        # off the subject, no name, no apology
        "t2,s,X,email,2025-01-01T09:00:00Z,How do I reset my password?,2025-01-01T09:30:00Z,"
        "Our offices are closed on Sundays.,,\n"
        # no question in what was asked: a relevant answer is a thorough one
        't3,s,X,email,2025-01-01T09:00:00Z,My order 4471 has not arrived yet.,2025-01-01T09:30:00Z,'
        '"I am sorry to hear your order 4471 is late. It left our warehouse today and arrives Friday.",,\n'
        # an auto-reply answers nothing: 0 on the four criteria (and on responsiveness and speed),
        # whatever its text or rubric
        't4,s,X,email,2025-01-01T09:00:00Z,How do I reset my password?,2025-01-01T09:00:05Z,'
        '"Hi Maria, sorry! To reset your password open Settings.",true,1\n'
        # a rubric score where given, the text for the others
        "t5,s,X,email,2025-01-01T09:00:00Z,How do I reset my password?,2025-01-01T09:30:00Z,"
        "Our offices are closed on Sundays.,,0.4\n")))
    rows = by_key(probe_scores(ws, "s"), "probe_id")
    crit = ("personalised", "relevant", "thorough", "empathetic")
    assert [rows["t1",][c] for c in crit] == [100, 100, 50, 100] and rows["t1",]["criteria_from"] == "text"
    assert [rows["t2",][c] for c in crit] == [0, 0, 0, 0]
    assert [rows["t3",][c] for c in crit] == [100, 100, 100, 100]
    assert [rows["t4",][c] for c in crit] == [0, 0, 0, 0] and rows["t4",]["criteria_from"] == "none"
    # scored as ignored: availability only (15 of 100), though it came in 5 s (regression: it scored 55)
    assert (rows["t4",]["responsiveness"], rows["t4",]["speed"]) == (0, 0)
    assert rows["t4",]["spi"] == pytest.approx(15)
    assert [rows["t5",][c] for c in crit] == [0, 0, 0, 40] and rows["t5",]["criteria_from"] == "rubric"
    assert rows["t1",]["spi"] == pytest.approx((1500 + 2000 + 2000 + 1000 + 1500 + 500 + 1000) / 100)


def test_overrides_per_study(study, tmp_path):
    (study.path / "studies.toml").write_text(
        '[studies.hw.weights]\nspeed = 0\nrelevant = 35\n[studies.hw.curves.email]\nslow = "12h"\n'
        '[studies.other.weights]\nspeed = 99\n', encoding="utf-8")
    decl = declaration(study, "hw")
    assert decl.weights["speed"] == 0 and decl.weights["relevant"] == 35 and decl.curves["email"] == (3600, 43200)
    assert decl.overridden == ("weights.speed", "weights.relevant", "curves.email")
    assert declaration(study, "elsewhere").weights == declaration().weights  # other studies keep the defaults
    w = {**W, "speed": 0, "relevant": 35}
    email = (15 * 100 + 20 * 100 + 10 * 100 + 35 * 80 + 10 * 50 + 10 * 100) / sum(w.values())
    cells = by_key(spi(study, "hw"), "company", "channel")
    assert cells[("Acme", "email")]["spi"] == pytest.approx(email)
    assert cells[("Acme", "email")]["speed"] == pytest.approx(log_speed(7200, 3600, 43200))  # still shown
    meta = json.loads(spi(study, "hw").schema.metadata[b"spi_declaration"])
    assert meta["weights"]["relevant"] == 35 and meta["curves"]["email"]["slow_s"] == 43200


@pytest.mark.parametrize(("text", "named"), [
    ("[studies.hw.weights]\nspeeed = 3\n", "weights.speeed is not a component of the SPI. Did you mean 'speed'"),
    ("[studies.hw.weights]\nspeed = -1\n", "weights.speed"),
    ('[studies.hw.curves.chat]\nfast = "soon"\n', "curves.chat.fast"),
    ('[studies.hw.curves.chat]\nfast = "20m"\n', "curves.chat"),  # past its slow (10 min)
    ('[studies.hw.text_signals]\nthorough = "vibes"\n', "text_signals.thorough"),
    ("[studys.hw]\n", "studys"),
    ("[studies.hw]\nweight = 1\n", "weight"),
    ("[organisation]\nnmae = 'Acme'\n", "nmae"),
    ("[studies.hw.weights\n", "studies.toml"),
])
def test_bad_studies_file_names_the_key(study, text, named):
    (study.path / "studies.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        spi(study, "hw")


def test_own_organisation_from_its_tickets(study, tmp_path):
    (study.path / "studies.toml").write_text('[organisation]\nname = "Zest"\nregion = "EMEA"\n', encoding="utf-8")
    study.import_file("events", put(tmp_path, "events.csv", (
        "event_id,ticket_id,ts,kind,actor_type,channel,body,created_by\n"
        # chat: the customer asks, an agent answers after 60 s (the doctest pair of the signals)
        "e1,T1,2025-03-03T10:00:00Z,created,customer,chat,"
        '"How do I reset my password? And can I change my email?",\n'
        'e2,T1,2025-03-03T10:01:00Z,message,agent,,"Hi Maria, sorry about that! To reset your password, '
        'open Settings > Security.",\n'
        # email: only a bot answered, after 30 min: an auto-reply
        "e3,T2,2025-03-03T11:00:00Z,created,customer,email,Where is my refund?,\n"
        "e4,T2,2025-03-03T11:30:00Z,message,bot,,We got your message.,\n"
        # email: nobody answered
        "e5,T3,2025-03-03T12:00:00Z,created,customer,email,Hello?,\n"
        # an agent's outbound ticket is not a probe; a ticket outside the study's period neither
        "e6,T4,2025-03-03T12:00:00Z,created,agent,email,Your invoice,agent\n"
        "e7,T5,2025-06-01T12:00:00Z,created,customer,email,Late one,\n")))
    chat = weighted(availability=100, responsiveness=100, speed=100, personalised=100, relevant=100, thorough=50,
                    empathetic=100)
    email = (15 + 15) / 2  # the auto-reply is scored as ignored (availability only: 15), as the ignored ticket
    # phone and social: no tickets in the period, so not available (0)
    rows = by_key(spi(study, "hw", by="company", own=True), "company")
    us = rows["Zest",]
    assert us["own"] is True and rows["Acme",]["own"] is False
    assert us["spi"] == pytest.approx((chat + email + 0 + 0) / 4)
    assert us["n"] == 5 and us["answered_share"] == pytest.approx(2 / 5)
    assert us["median_response_s"] == pytest.approx((60 + 1800) / 2)
    cells = by_key(spi(study, "hw", own=True), "company", "channel")
    assert cells[("Zest", "chat")]["spi"] == pytest.approx(chat)
    assert cells[("Zest", "email")]["spi"] == pytest.approx(email)
    region = by_key(spi(study, "hw", by="region", own=True), "region", "own")
    assert region[("EMEA", True)]["spi"] == pytest.approx(us["spi"])
    # several groupings at once (the Studies page: the own tickets scored once) give the same rows
    many = spi_by(study, "hw", ["company", ("company", "channel")], own=True)
    assert by_key(many[0], "company") == rows and by_key(many[1], "company", "channel") == cells
    # without [organisation] it is "us"
    (study.path / "studies.toml").unlink()
    assert "us" in {r["company"] for r in spi(study, "hw", by="company", own=True).to_pylist()}


@pytest.mark.parametrize("text_layer", [False, True], ids=["scored-on-the-spot", "from-the-text-facts"])
def test_own_first_reply_answers_everything_asked_before_it(study, tmp_path, monkeypatch, text_layer):
    """The own organisation's answer is read against all the customer wrote before it (two
    messages here, two questions), whether scored on the spot or read from the text facts;
    with the text layer on, the reply is not scored again."""
    signals_mod = importlib.import_module("cxmetrics.text.signals")  # the module (cxmetrics.text.signals is the function)
    study.import_file("events", put(tmp_path, "events.csv", (
        "event_id,ticket_id,ts,kind,actor_type,channel,body\n"
        "e1,T1,2025-03-03T10:00:00Z,created,customer,chat,\n"
        'e2,T1,2025-03-03T10:00:00Z,message,customer,,"Can you refund my parcel 4471?"\n'
        'e3,T1,2025-03-03T10:00:30Z,message,customer,,"Also, can I change my delivery address?"\n'
        'e4,T1,2025-03-03T10:01:00Z,message,agent,,"Sorry about that: I have refunded parcel 4471."\n'
        # a call: the agent's follow-up is the first reply; the customer's later question asked nothing of it
        "e5,T2,2025-03-03T11:00:00Z,created,customer,phone,\n"
        'e6,T2,2025-03-03T11:05:00Z,message,agent,,"As discussed, your new plan starts on Monday."\n'
        'e7,T2,2025-03-03T12:00:00Z,message,customer,,"Thanks! Can I also change my billing address?"\n')))
    if text_layer:
        cxmetrics.text.refresh(study)
    seen: list[str | None] = []
    real = signals_mod.signals

    def recording(replies, asked=None, **kw):  # type: ignore[no-untyped-def]
        seen.extend(replies)
        return real(replies, asked, **kw)

    monkeypatch.setattr(signals_mod, "signals", recording)
    cells = by_key(spi(study, "hw", own=True), "company", "channel")
    # the refund is answered, the address is not: thorough 50; 4471 repeated: personalised;
    # "sorry": empathetic; the reply shares the question's words: relevant; 60 s on chat: speed 100
    chat = weighted(availability=100, responsiveness=100, speed=100, personalised=100, relevant=100, thorough=50,
                    empathetic=100)
    assert cells[("us", "chat")]["spi"] == pytest.approx(chat)
    assert cells[("us", "chat")]["thorough"] == pytest.approx(50.0)
    # nothing written before the call's follow-up: its relevance and thoroughness are not judged
    # (never against the customer's later question), so the cell has none
    assert cells[("us", "phone")]["relevant"] is None and cells[("us", "phone")]["thorough"] is None
    own_reply = "Sorry about that: I have refunded parcel 4471."
    assert (own_reply in seen) is not text_layer


def test_bootstrap_interval_contains_the_point_and_narrows_with_n(ws, tmp_path):
    lines = ["probe_id,study,company,channel,sent_at,first_response_at"]
    for company, n in (("Few", 6), ("Many", 120)):
        for i in range(n):  # answered within chat's fast minute (SPI 100 of 55) or ignored (15), half each
            answered = "2025-01-01T00:00:30Z" if i % 2 == 0 else ""
            lines.append(f"{company}-{i},s,{company},chat,2025-01-01T00:00:00Z,{answered}")
    ws.import_file("probes", put(tmp_path, "p.csv", "\n".join(lines) + "\n"))
    rows = by_key(spi(ws, "s", by="company"), "company")
    for name in ("Few", "Many"):
        r = rows[name,]
        assert r["spi"] == pytest.approx((100 + 15) / 2)  # answered: 100 over the 3 components that apply
        assert r["spi_lo"] < r["spi"] < r["spi_hi"]
    few, many = rows["Few",], rows["Many",]
    assert many["spi_hi"] - many["spi_lo"] < (few["spi_hi"] - few["spi_lo"]) / 2
    # seeded: the same seed gives the same interval, another seed another
    again = by_key(spi(ws, "s", by="company"), "company")["Few",]
    assert (again["spi_lo"], again["spi_hi"]) == (few["spi_lo"], few["spi_hi"])
    # the interval of a mean of 0/1-like outcomes: about 1.96 standard errors each side
    se = (100 - 15) / 2 / math.sqrt(120)
    assert many["spi_hi"] - many["spi_lo"] == pytest.approx(2 * 1.96 * se, rel=0.15)


def _reference_bootstrap(members: list[tuple[float, str, str]], seed: int, resamples: int) -> tuple[float, float]:
    """The documented two-stage bootstrap, one resample at a time: companies with replacement,
    then each company x channel's probes with replacement, averaged as the point is."""
    rng = np.random.default_rng(seed)
    cells: dict[str, dict[str, np.ndarray]] = {}
    for v, company, channel in members:
        cells.setdefault(company, {}).setdefault(channel, [])
        cells[company][channel].append(v)  # type: ignore[union-attr]
    firms = list(cells)
    stats = []
    for _ in range(resamples):
        # each company's cells resampled once, then the companies drawn (a company drawn twice counts its mean twice)
        firm_mean = {c: np.mean([np.mean(rng.choice(np.array(v), len(v))) for v in cells[c].values()]) for c in firms}
        picked = [firms[i] for i in rng.integers(0, len(firms), len(firms))] if len(firms) > 1 else firms
        stats.append(np.mean([firm_mean[c] for c in picked]))
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return float(lo), float(hi)


def test_bootstrap_of_large_cells_matches_drawing_every_probe():
    """A company x channel of LARGE_CELL probes or more has its resampled mean drawn from the
    normal: the interval is the one drawing every probe gives (within the resampling noise)."""
    from cxmetrics.studies._spi import LARGE_CELL, _interval

    rng = np.random.default_rng(7)
    big = [(float(v), "Us", "email") for v in rng.choice([0.0, 55.0, 100.0], size=LARGE_CELL + 500, p=[.2, .3, .5])]
    big += [(float(v), "Us", "chat") for v in rng.uniform(0, 100, size=LARGE_CELL)]
    phone = [(float(v), "Us", "phone") for v in rng.uniform(0, 100, size=8)]  # a small cell beside the large ones
    rivals = [(float(v), f"R{k}", ch) for k in range(5) for ch in ("email", "chat") for v in rng.uniform(20 + 5 * k, 90, size=12)]
    for members in (big, big + phone, big + rivals):
        # many resamples: what is compared is the two ways of drawing, not two runs' noise
        lo, hi = _interval(members, np.random.default_rng([0, 0]), 8000)
        ref_lo, ref_hi = _reference_bootstrap(members, 1, 8000)
        width = ref_hi - ref_lo
        assert lo == pytest.approx(ref_lo, abs=0.04 * width) and hi == pytest.approx(ref_hi, abs=0.04 * width)
    # one company, one large cell: 1.96 standard errors of its mean each side
    values = np.array([v for v, _, ch in big if ch == "email"])
    lo, hi = _interval([m for m in big if m[2] == "email"], np.random.default_rng(3), 2000)
    se = values.std() / math.sqrt(len(values))
    assert (lo + hi) / 2 == pytest.approx(values.mean(), abs=0.1 * se)
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.06)


def test_studies_lists_them(study):
    row = studies(study).to_pylist()[0]
    assert (row["study"], row["companies"], row["channels"], row["probes"]) == (
        "hw", 2, ["chat", "email", "phone", "social"], 4)


def test_errors_name_the_value_and_the_fix(study, ws):
    with pytest.raises(UnknownNameError, match="Did you mean 'hw'"):
        spi(study, "hww")
    with pytest.raises(UnknownNameError, match="dimension 'team'"):
        spi(study, "hw", by=["team"])
    with pytest.raises(UserError, match="start '03/04/2025' is not a date"):
        spi(study, "hw", start="03/04/2025")


def test_a_workspace_without_probes_says_how_to_import_them(ws):
    with pytest.raises(UserError, match="import probes"):
        spi(ws, "any")


def test_import_checks_and_a_company_without_a_row(ws, tmp_path):
    summary = ws.import_file("probes", put(tmp_path, "p.csv", (
        "probe_id,study,company,channel,sent_at,first_response_at,follow_up_at,auto_reply,response_text,"
        "rubric_thorough,rubric_scale\n"
        "q1,s,X,chat,2025-01-02T00:00:00Z,2025-01-01T00:00:00Z,,,,,\n"
        "q2,s,X,chat,2025-01-02T00:00:00Z,,2025-01-01T00:00:00Z,,,,\n"
        "q3,s,X,chat,2025-01-02T00:00:00Z,,,true,,,\n"
        "q4,s,X,chat,2025-01-02T00:00:00Z,,,,Hello,,\n"
        "q5,s,X,chat,2025-01-02T00:00:00Z,2025-01-02T00:01:00Z,,,,6,1-5\n"
        "q6,s,X,chat,2025-01-02T00:00:00Z,2025-01-02T00:01:00Z,,,,3,five\n"
        "q7,s,Nobody,SOCIAL,2025-01-02T00:00:00Z,,,,,,\n"
        "q8,s,X,chat,2025-01-02T00:00:00Z,2025-01-02T00:01:00Z,,,,80,0-100\n")))
    assert summary.to_dict()["read"] == 8 and summary.quarantined == 6 and summary.inserted == 2
    reasons = [r["reason"] for r in ws.quarantine().to_pylist()]
    assert any(r.startswith("first_response_at (2025-01-01 00:00:00+00) is before sent_at") for r in reasons)
    assert any(r.startswith("follow_up_at (2025-01-01 00:00:00+00) is before sent_at") for r in reasons)
    assert any("auto_reply is true but first_response_at is empty" in r for r in reasons)
    assert any("response_text is given but first_response_at is empty" in r for r in reasons)
    assert any("rubric_thorough 6" in r and "outside its rubric_scale 1-5" in r for r in reasons)
    assert any("rubric_scale 'five' is not a scale" in r for r in reasons)
    rows = by_key(probe_scores(ws, "s"), "probe_id")
    # a company with no companies row offers every channel it was probed on: ignored, not unavailable
    assert rows["q7",]["channel"] == "social" and rows["q7",]["available"] is True and rows["q7",]["spi"] == 15
    assert rows["q8",]["thorough"] == pytest.approx(80)  # 80 on 0-100 is stored as 0.8
    assert ws.sql("SELECT rubric_thorough FROM probes WHERE probe_id = 'q8'").to_pylist() == [
        {"rubric_thorough": pytest.approx(0.8)}]


def test_an_answer_proves_the_channel_whatever_the_companies_row_says(study, tmp_path):
    study.import_file("probes", put(tmp_path, "p2.csv", (
        "probe_id,study,company,channel,sent_at,first_response_at\n"
        "A-social,hw2,Acme,social,2025-03-03T09:00:00Z,2025-03-03T09:30:00Z\n"
        "A-social-2,hw2,Acme,social,2025-03-05T09:00:00Z,\n")))
    rows = by_key(probe_scores(study, "hw2"), "probe_id")
    assert rows["A-social",]["available"] is True  # answered on a channel its row does not list
    assert rows["A-social-2",]["available"] is False and rows["A-social-2",]["spi"] == 0  # not offered: 0


def test_companies_channels_are_lower_case_and_reimport_is_unchanged(ws, tmp_path):
    path = put(tmp_path, "c.csv", COMPANIES)
    ws.import_file("companies", path)
    assert ws.sql("SELECT channels FROM companies WHERE company = 'Acme'").to_pylist()[0]["channels"] == [
        "chat", "email", "phone"]
    assert ws.import_file("companies", path).to_dict()["unchanged"] == 2


def test_cli_shows_the_weights_with_every_score(study):
    runner = CliRunner()
    base = ["--workspace", str(study.path)]
    study.close()
    out = runner.invoke(main, [*base, "study", "spi", "hw", "--by", "company"])
    assert out.exit_code == 0, out.output
    assert "Acme" in out.output and "SPI weights: availability 15, responsiveness 20, speed 20" in out.output
    out = runner.invoke(main, [*base, "study", "spi", "hw", "--by", "company,channel", "--format", "json"])
    data = json.loads(out.output)
    assert data["declaration"]["weights"]["speed"] == 20 and data["declaration"]["curves"]["chat"]["fast_s"] == 60
    assert {(r["company"], r["channel"]) for r in data["rows"]} >= {("Acme", "social"), ("Bolt", "social")}
    out = runner.invoke(main, [*base, "study", "list"])
    assert out.exit_code == 0 and "hw" in out.output
    out = runner.invoke(main, [*base, "study", "probes", "hw", "--format", "csv"])
    assert out.exit_code == 0 and out.output.splitlines()[0].startswith("probe_id,study,company,channel")
    out = runner.invoke(main, [*base, "study", "spi", "hww"])
    assert out.exit_code == 1 and "UnknownNameError: Unknown study 'hww'. Did you mean 'hw'?" in out.output
    # the whole study: the mean of Acme's 46.91 and Bolt's 100 (its one channel probed, social)
    out = runner.invoke(main, [*base, "study", "spi", "hw", "--by", "none", "--format", "json"])
    assert out.exit_code == 0 and json.loads(out.output)["rows"][0]["spi"] == pytest.approx((46.9097 + 100) / 2,
                                                                                            abs=1e-3)


def test_a_group_of_companies_holds_its_point_inside_its_interval(ws, tmp_path):
    # A and B answer every chat probe within the minute (100 each); C offers only email, so its
    # chat is one unavailable probe (0). Pooling the group's probes would drop C from a third of
    # the resamples and push the interval above the point (67); companies are resampled instead.
    ws.import_file("companies", put(tmp_path, "c.csv", 'company,channels\nA,"chat,email"\nB,"chat,email"\nC,email\n'))
    lines = ["probe_id,study,company,channel,sent_at,first_response_at"]
    lines += [f"{c}-{i},s,{c},chat,2025-01-01T00:00:00Z,2025-01-01T00:00:30Z" for c in "AB" for i in range(8)]
    lines += ["C-1,s,C,email,2025-01-01T00:00:00Z,2025-01-01T00:10:00Z"]
    ws.import_file("probes", put(tmp_path, "p.csv", "\n".join(lines) + "\n"))
    chat = by_key(spi(ws, "s", by="channel"), "channel")["chat",]
    assert chat["spi"] == pytest.approx(200 / 3) and chat["n"] == 17
    assert chat["spi_lo"] < chat["spi"] < chat["spi_hi"]
    assert chat["spi_lo"] == pytest.approx(0, abs=1e-9) and chat["spi_hi"] == pytest.approx(100)
