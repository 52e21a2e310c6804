"""The Support Performance Index of a study's companies (docs/studies.md): per probe, per
company x channel, per company, or cut by industry, region and company size; with the
organisation's own tickets as one more company on request.

- `probe_scores(ws, study)`: one row per probe with its components and SPI;
- `spi(ws, study, by=...)`: the index per group with its n and a 95% bootstrap interval;
- `studies(ws)`: the studies in the workspace.

How groups are averaged: a company x channel's SPI is the mean of its probes' (a study
channel the company neither offers nor was probed on counts as one unavailable probe, 0); a
company's is the mean over the study's channels of its company x channel SPIs; a group of
companies (a channel, an industry...) is the mean over its companies. Every component is
averaged the same way. The interval resamples the group's companies and each one's probes
within each of its channels (2,000 times, seeded), averaging each resample the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.studies._declaration import COMPONENTS, SpiDeclaration, declaration
from cxmetrics.studies._own import SIGNALS, own_probes
from cxmetrics.studies._scoring import score
from cxmetrics.text.signals import ReplySignals

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

__all__ = ["DIMENSIONS", "probe_scores", "spi", "spi_by", "studies"]

#: what scores may be cut by
DIMENSIONS = ("company", "channel", "industry", "region", "company_size")
RESAMPLES = 2000
_CHUNK = 2_000_000  # resampled draws held at once (memory stays flat for large groups)
#: a company x channel with this many probes or more has its resampled mean drawn from the normal
LARGE_CELL = 1000

Moment = date | datetime | str | None

# the study's probes with what the companies table says of them; a company without a row (or
# without channels) is taken to offer every channel it was probed on; an answer proves a channel
_PROBES = """
WITH co AS (
    SELECT source, company, industry, region, size, channels FROM companies
),
co_any AS (  -- the company's row from any source, when the probes' source has none
    SELECT company, any_value(industry) AS industry, any_value(region) AS region, any_value(size) AS size,
           flatten(list(channels) FILTER (channels IS NOT NULL)) AS channels
    FROM companies GROUP BY company
)
SELECT p.probe_id, p.study, p.company, p.channel,
       coalesce(p.industry, c.industry, a.industry) AS industry,
       coalesce(p.region, c.region, a.region) AS region,
       coalesce(p.company_size, c.size, a.size) AS company_size,
       p.sent_at, p.question, p.response_text,
       p.first_response_at IS NOT NULL
         OR coalesce(c.channels, nullif(a.channels, [])) IS NULL
         OR list_contains(coalesce(c.channels, a.channels), p.channel) AS available,
       p.first_response_at IS NOT NULL AS answered,
       coalesce(p.auto_reply, false) AND p.first_response_at IS NOT NULL AS auto_reply,
       p.resolved, p.follow_up_at IS NOT NULL AS followed_up,
       epoch(p.first_response_at) - epoch(p.sent_at) AS response_s,
       p.rubric_personalised, p.rubric_relevant, p.rubric_thorough, p.rubric_empathetic,
       coalesce(c.channels, nullif(a.channels, [])) AS offered
FROM probes p
LEFT JOIN co c ON c.source = p.source AND c.company = p.company
LEFT JOIN co_any a ON a.company = p.company
WHERE p.study = ? AND p.sent_at >= CAST(? AS TIMESTAMPTZ) AND p.sent_at < CAST(? AS TIMESTAMPTZ)
ORDER BY p.company, p.channel, p.sent_at, p.probe_id
"""

_FAR_PAST, _FAR_FUTURE = "0001-01-01 00:00:00+00", "9999-12-31 00:00:00+00"

_OUT = ("probe_id", "study", "company", "channel", "industry", "region", "company_size", "sent_at", "available",
        "answered", "auto_reply", "resolved", "followed_up", "response_s", *COMPONENTS, "criteria_from", "spi")


def _moment(value: Moment, name: str) -> str | None:
    """A bound as text the engine reads (a date or naive time in the workspace's zone)."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{name} '{value}' is not a date or time; write it like 2025-03-01 or "
                        "2025-03-01T09:00.") from None
    return text


def _check_study(ws: Workspace, study: str) -> None:
    known = [r["study"] for r in ws.sql("SELECT DISTINCT study FROM probes ORDER BY 1").to_pylist()]
    if study not in known:
        if not known:
            raise UserError(f"Unknown study '{study}': the workspace has no probes yet. Import them with "
                            "`cxmetrics import probes FILE` (docs/studies.md, \"Run a study\").")
        raise UnknownNameError("study", study, known)


def _scored(rows: pa.Table, decl: SpiDeclaration, study: str,
            given: Sequence[ReplySignals | None] | None = None) -> pa.Table:
    """`rows` (probe rows as _PROBES gives them) with their components and SPI (`given`: the
    signals of answers already scored, as _scoring.score takes them)."""
    found = score(rows, decl, given)
    n = rows.num_rows
    cols: dict[str, Any] = {}
    for name in _OUT:
        if name in found:
            values = found[name]
            cols[name] = (pa.array(values, type=pa.string()) if isinstance(values, list) else
                          pa.array(values, type=pa.float64(), mask=np.isnan(values)))
        elif name == "study":
            cols[name] = pa.array([study] * n, type=pa.string())
        elif name == "response_s":
            cols[name] = rows.column(name).cast(pa.float64())
        else:
            cols[name] = rows.column(name)
    return pa.table(cols)


def probe_scores(ws: Workspace, study: str, *, start: Moment = None, end: Moment = None) -> pa.Table:
    """One row per probe of `study` sent in [start, end): its dimensions, what happened
    (available, answered, auto_reply, resolved, followed_up, response_s) and its components
    and SPI (0-100; NULL only where a criterion cannot be judged, and response_s when
    ignored); `criteria_from` says where its criteria came from: rubric (at least one given
    by a person; the others from the text), text, or none (not judged: unavailable, ignored,
    an auto-reply, or an answer without text). The declaration used is in the table's
    metadata (`spi_declaration`, JSON)."""
    _check_study(ws, study)
    decl = declaration(ws, study)
    rows = ws.sql(_PROBES, [study, _moment(start, "start") or _FAR_PAST, _moment(end, "end") or _FAR_FUTURE])
    return _with_declaration(_scored(rows, decl, study), decl)


def _with_declaration(table: pa.Table, decl: SpiDeclaration) -> pa.Table:
    return table.replace_schema_metadata({"spi_declaration": json.dumps(decl.as_dict())})


def _unavailable(rows: pa.Table, scored: pa.Table, study: str) -> pa.Table:
    """One unavailable probe for each study channel a company neither offers nor was probed on
    (companies with a channels list only: for the others what they offer is not known)."""
    channels = sorted(set(rows.column("channel").to_pylist()))
    probed: dict[str, set[str]] = {}
    info: dict[str, tuple[Any, Any, Any, Any]] = {}
    for r in rows.select(["company", "channel", "industry", "region", "company_size", "offered"]).to_pylist():
        probed.setdefault(r["company"], set()).add(r["channel"])
        info.setdefault(r["company"], (r["industry"], r["region"], r["company_size"], r["offered"]))
    extra = []
    for company, (industry, region, size, offered) in info.items():
        if offered is None:
            continue
        for ch in channels:
            if ch not in probed[company] and ch not in offered:
                extra.append({"study": study, "company": company, "channel": ch, "industry": industry,
                              "region": region, "company_size": size, "available": False, "answered": False,
                              "auto_reply": False, "followed_up": False, **{c: 0.0 for c in COMPONENTS},
                              "criteria_from": "none", "spi": 0.0})
    if not extra:
        return scored
    return pa.concat_tables([scored, pa.Table.from_pylist(extra, schema=scored.schema)])


def spi(ws: Workspace, study: str, *, by: Sequence[str] | str = ("company", "channel"), own: bool = False,
        start: Moment = None, end: Moment = None, seed: int = 0, resamples: int = RESAMPLES) -> pa.Table:
    """The SPI of `study` per group of `by` (any of company, channel, industry, region,
    company_size; () for the whole study): n (probes), answered_share, median_response_s, the
    seven components and the spi (0-100) with its 95% bootstrap interval (spi_lo, spi_hi;
    `resamples` draws, `seed` makes them repeatable), best first. With `own`, the
    organisation's own tickets are one more company (studies.toml [organisation] name,
    default "us"; an `own` column marks its rows), over the study's channels and by default
    the study's period. The declaration used is in the table's metadata (`spi_declaration`)."""
    return spi_by(ws, study, [by], own=own, start=start, end=end, seed=seed, resamples=resamples)[0]


def spi_by(ws: Workspace, study: str, bys: Sequence[Sequence[str] | str], *, own: bool = False,
           start: Moment = None, end: Moment = None, seed: int = 0, resamples: int = RESAMPLES) -> list[pa.Table]:
    """`spi` for each grouping of `bys`, the probes (and the organisation's own tickets, whose
    text signals are most of the cost) scored once for all of them."""
    groupings = [[by] if isinstance(by, str) else list(by) for by in bys]
    for dims in groupings:
        for d in dims:
            if d not in DIMENSIONS:
                raise UnknownNameError("dimension", d, DIMENSIONS)
        if len(set(dims)) != len(dims):
            raise UserError(f"by names a dimension twice ({', '.join(dims)}): give each once.")
    if resamples < 100:
        raise UserError(f"resamples {resamples} is too few for a 95% interval: give 100 or more (default 2000).")
    _check_study(ws, study)
    decl = declaration(ws, study)
    lo, hi = _moment(start, "start"), _moment(end, "end")
    rows = ws.sql(_PROBES, [study, lo or _FAR_PAST, hi or _FAR_FUTURE])
    table = _unavailable(rows, _scored(rows, decl, study), study)
    mine = _own_scored(ws, rows, decl, study, lo, hi) if own else None
    tables = []
    con = duckdb.connect()  # (one for every grouping's means)
    try:
        aggregated = [(_aggregate(table, dims, seed, resamples, con),
                       None if mine is None else _aggregate(mine, dims, seed, resamples, con)) for dims in groupings]
    finally:
        con.close()
    for dims, (theirs, ours) in zip(groupings, aggregated, strict=True):
        parts = [theirs] if ours is None else [theirs, ours]
        out = pa.concat_tables(parts) if mine is not None else parts[0]
        if mine is not None:
            marks = [False] * parts[0].num_rows + [True] * parts[1].num_rows
            out = out.add_column(1 + len(dims), "own", pa.array(marks, type=pa.bool_()))
        tables.append(_with_declaration(_sorted(out), decl))
    return tables


def _own_scored(ws: Workspace, rows: pa.Table, decl: SpiDeclaration, study: str, lo: str | None,
                hi: str | None) -> pa.Table:
    """The organisation's tickets as probes, scored like the companies' (aggregated by the caller)."""
    channels = sorted(set(rows.column("channel").to_pylist()))
    if lo is None or hi is None:  # the study's period, whole days in the workspace's zone
        span = ws.sql("SELECT CAST(min(sent_at)::DATE AS VARCHAR) AS a, CAST(max(sent_at)::DATE + 1 AS VARCHAR) AS b "
                      "FROM probes WHERE study = ?", [study]).to_pylist()[0]
        lo, hi = lo or span["a"], hi or span["b"]
    tickets = own_probes(ws, channels, lo, hi)
    org = decl.organisation
    n = tickets.num_rows
    probes = pa.table({
        "probe_id": tickets.column("probe_id"), "study": pa.array([study] * n, pa.string()),
        "company": pa.array([org.name] * n, pa.string()), "channel": tickets.column("channel"),
        "industry": pa.array([org.industry] * n, pa.string()), "region": pa.array([org.region] * n, pa.string()),
        "company_size": pa.array([org.size] * n, pa.string()), "sent_at": tickets.column("sent_at"),
        "question": tickets.column("question"), "response_text": tickets.column("response_text"),
        "available": pa.array([True] * n, pa.bool_()),
        "answered": pc.is_valid(tickets.column("first_response_at")),
        "auto_reply": tickets.column("auto_reply"), "resolved": tickets.column("resolved"),
        "followed_up": pa.array([None] * n, pa.bool_()),
        "response_s": tickets.column("response_s"),
        **{f"rubric_{c}": pa.array([None] * n, pa.float64()) for c in ("personalised", "relevant", "thorough",
                                                                       "empathetic")},
    })
    scored = _scored(probes, decl, study, _given_signals(tickets))
    # a study channel without tickets in the period: the organisation is not available on it
    missing = sorted(set(channels) - set(tickets.column("channel").to_pylist()))
    extra = [{"study": study, "company": org.name, "channel": ch, "industry": org.industry, "region": org.region,
              "company_size": org.size, "available": False, "answered": False, "auto_reply": False,
              **{c: 0.0 for c in COMPONENTS}, "criteria_from": "none", "spi": 0.0} for ch in missing]
    if extra:
        scored = pa.concat_tables([scored, pa.Table.from_pylist(extra, schema=scored.schema)])
    return scored


def _given_signals(tickets: pa.Table) -> list[ReplySignals | None]:
    """Each own probe's first-reply signals from the text facts (None where they have none)."""
    cols = [tickets.column(f"signal_{name}").to_pylist() for name in SIGNALS]
    return [None if row[0] is None else ReplySignals(*row) for row in zip(*cols, strict=True)]


def _aggregate(table: pa.Table, dims: list[str], seed: int, resamples: int,
               con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """The groups of `dims`: probes -> company x channel -> company -> group means, in DuckDB
    (`con`: an in-memory connection to use, else one of its own: opening one takes tens of ms);
    each group's interval by resampling its probes (_interval)."""
    keys = ", ".join(dims)
    lead = f"{keys}, " if dims else ""
    cell = list(dict.fromkeys([*dims, "company", "channel"]))
    firm = list(dict.fromkeys([*dims, "company"]))
    means = ", ".join(f"avg({c}) AS {c}" for c in (*COMPONENTS, "spi"))
    own = con is None
    con = duckdb.connect() if con is None else con
    try:
        con.register("scored", table)
        found = con.sql(f"""
            WITH cells AS (SELECT {', '.join(cell)}, {means} FROM scored GROUP BY ALL),
                 firms AS (SELECT {', '.join(firm)}, {means} FROM cells GROUP BY ALL),
                 groups AS (SELECT {lead}{means} FROM firms GROUP BY ALL),
                 counts AS (SELECT {lead}any_value(study) AS study, count(*) AS n,
                                   avg(CAST(answered AS DOUBLE)) AS answered_share,
                                   median(response_s) AS median_response_s FROM scored GROUP BY ALL)
            SELECT c.study, {''.join(f'c.{d}, ' for d in dims)}c.n, c.answered_share, c.median_response_s,
                   {', '.join(f'g.{x}' for x in (*COMPONENTS, 'spi'))}
            FROM counts c JOIN groups g ON {' AND '.join(f'c.{d} IS NOT DISTINCT FROM g.{d}' for d in dims) or 'true'}
            ORDER BY {', '.join(f'c.{d} NULLS LAST' for d in dims) or 'c.study'}
        """).to_arrow_table()
    finally:
        con.unregister("scored")
        if own:
            con.close()
    members: dict[tuple[Any, ...], list[tuple[Any, str, str]]] = {}
    columns = [table.column(c).to_pylist() for c in (*dims, "spi", "company", "channel")]
    for *key, value, company, channel in zip(*columns, strict=True):
        members.setdefault(tuple(key), []).append((value, company, channel))
    lows, highs = [], []
    for i, group in enumerate(found.select(dims).to_pylist() if dims else [{}]):
        # each group draws from its own stream: its interval does not depend on the other groups
        lo, hi = _interval(members.get(tuple(group[d] for d in dims), []), np.random.default_rng([seed, i]),
                           resamples)
        lows.append(lo)
        highs.append(hi)
    return found.append_column("spi_lo", pa.array(lows, pa.float64())).append_column(
        "spi_hi", pa.array(highs, pa.float64()))


def _interval(member: list[tuple[Any, str, str]], rng: np.random.Generator, resamples: int
              ) -> tuple[float | None, float | None]:
    """The 95% percentile interval of the group's SPI by a two-stage bootstrap: the group's
    companies are resampled (when it has several), and the probes of each company x channel
    within it; each resample is averaged as the point is (probes -> company x channel ->
    company -> group). Resampling within each cell keeps every cell in every resample: pooled
    resampling would drop a company probed once more often than one probed ten times and bias
    the group's mean (the point fell outside its own interval)."""
    kept = [(v, c, ch) for v, c, ch in member if v is not None and not np.isnan(v)]
    if not kept:
        return None, None
    kept.sort(key=lambda r: (r[1], r[2]))  # each cell's probes side by side
    values = np.array([v for v, _, _ in kept], dtype=float)
    cell_ids = {k: i for i, k in enumerate(dict.fromkeys((c, ch) for _, c, ch in kept))}
    cell = np.array([cell_ids[(c, ch)] for _, c, ch in kept])
    size = np.bincount(cell)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    firm_ids = {c: i for i, c in enumerate(dict.fromkeys(c for c, _ in cell_ids))}
    cell_firm = np.zeros((len(cell_ids), len(firm_ids)))
    for (c, _), i in cell_ids.items():
        cell_firm[i, firm_ids[c]] = 1.0
    firm_cells = cell_firm.sum(axis=0)
    n_cells, n_firms = len(cell_ids), len(firm_ids)
    # a cell of LARGE_CELL probes or more: its resampled mean drawn from the normal it follows
    # (mean, sd / sqrt(n), the sd of the resampled values: the bootstrap's own variance), not by
    # drawing its probes one by one: 30,000 tickets of the organisation x 2,000 resamples is
    # seconds of draws, and at that size the two distributions cannot be told apart
    large = size >= LARGE_CELL
    small = ~large[cell]
    probe_cell, probe_first = cell[small], first[cell][small]
    m = len(probe_cell)
    sums = np.bincount(cell, weights=values, minlength=n_cells)
    squares = np.bincount(cell, weights=values * values, minlength=n_cells)
    mean = sums / size
    spread = np.sqrt(np.maximum(squares / size - mean * mean, 0.0) / size)
    stats = np.empty(resamples)
    step = max(1, _CHUNK // max(m, 1))
    for start in range(0, resamples, step):
        b = min(step, resamples - start)
        total = np.zeros((b, n_cells))
        if m:
            draw = probe_first + (rng.random((b, m)) * size[probe_cell]).astype(np.int64)  # a probe of the same cell
            flat = (np.arange(b)[:, None] * n_cells + probe_cell[None, :]).ravel()
            total = np.bincount(flat, weights=values[draw].ravel(), minlength=b * n_cells).reshape(b, n_cells)
        if large.any():
            total[:, large] = size[large] * (mean[large] + spread[large] * rng.standard_normal((b, int(large.sum()))))
        firm_mean = (total / size) @ cell_firm / firm_cells
        if n_firms > 1:
            times = rng.multinomial(n_firms, np.full(n_firms, 1.0 / n_firms), size=b)
            stats[start:start + b] = (times * firm_mean).sum(axis=1) / n_firms
        else:
            stats[start:start + b] = firm_mean[:, 0]
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return float(lo), float(hi)


def _sorted(table: pa.Table) -> pa.Table:
    """Best first (a leaderboard); ties and NULLs after, in the table's order."""
    if table.num_rows == 0:
        return table
    order = sorted(range(table.num_rows), key=lambda i: (
        table.column("spi")[i].as_py() is None, -(table.column("spi")[i].as_py() or 0.0), i))
    return table.take(pa.array(order, pa.int64()))


def studies(ws: Workspace) -> pa.Table:
    """The workspace's studies: study, companies, channels (the list), probes, first_sent,
    last_sent."""
    return ws.sql("""
        SELECT study, count(DISTINCT company) AS companies, list_sort(list(DISTINCT channel)) AS channels,
               count(*) AS probes, min(sent_at) AS first_sent, max(sent_at) AS last_sent
        FROM probes GROUP BY study ORDER BY study
    """)
