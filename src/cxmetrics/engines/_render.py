"""Rendering cxmetrics' SQL (DuckDB's dialect, what `cxmetrics.metrics` compiles) for Spark SQL.

sqlglot translates most of it (`transpile(sql, read="duckdb", write="spark")`); what it does
not translate, or translates to something Spark answers differently, is mapped here, in this
one place, each with why (the parity tests in tests/spark/ check every metric on both engines):

- `quantile_cont(x, [levels])` (exact, linear interpolation) -> Spark's `percentile(x, array(...))`,
  exact with linear interpolation too (sqlglot writes `percentile_cont`, which Spark takes only
  `WITHIN GROUP`, for one level). The two interpolate in a different order of floating-point
  operations, so a percentile between two values may differ in its last bit (1e-16 relative);
  no formula written in Spark SQL reproduced DuckDB's rounding for every value.
- `epoch(a - b)` (seconds between two instants, fractional) and `epoch(t)` -> arithmetic on
  `unix_micros` that rounds exactly as DuckDB's does (see `_epoch`); sqlglot writes
  `unix_timestamp`, which drops the fraction and does not take an interval. Instants only
  (TIMESTAMPTZ; Spark's `unix_micros` does not take a timestamp without zone).
- `INTERVAL n DAY|WEEK|MONTH|...` -> `make_interval(...)`: DuckDB adds days and months on the
  session's calendar (a day across a DST change is 23 or 25 hours); Spark's ANSI day interval
  is always 86,400 s, its calendar interval (`make_interval`) is not.
- `generate_series(a, b, step) g(x)` in FROM -> `explode(sequence(a, b, step)) AS g(x)` (both
  include `b`).
- `list_has_any(a, b)` -> `arrays_overlap(a, b)` (sqlglot writes the `&&` operator, which Spark lacks).
- `timezone(zone, t)` (the instant's wall-clock time in `zone`) -> `from_utc_timestamp(t, zone)`;
  `current_setting('TimeZone')` -> `current_timezone()`; `epoch_us(t)` -> `unix_micros(t)` and its
  inverse `make_timestamptz(us)` -> `timestamp_micros(us)` (business due times);
  `error(msg)` -> `raise_error(msg)`.
- `a / b` -> `CAST(a AS DOUBLE) / b`: DuckDB divides integers and DECIMALs alike into a DOUBLE;
  Spark keeps a DECIMAL quotient, rounded to its scale (a ratio differed in the 9th digit).
- `t + to_microseconds(n)` and `t - to_microseconds(n)` (an instant n microseconds of elapsed time
  later or earlier) -> `timestamp_micros(unix_micros(t) + n)`: Spark adds the whole days of a
  day-time interval on the session's calendar, so a 120-hour SLA target across the March clock
  change fell due an hour early (found by the SLA parity test). Elsewhere `to_microseconds(n)`
  -> `make_dt_interval(0, 0, 0, n / 1e6)`, exact as a DECIMAL(18,6) of seconds.
- `SELECT * REPLACE (e AS c)` -> `SELECT * EXCEPT (c), e AS c`: Spark has no REPLACE; the
  metric layer reads result columns by name, so their order does not matter.
- `UNION [ALL] BY NAME` -> a positional union of both sides' columns by name (missing ones
  NULL): Spark SQL has no BY NAME, so the sides' columns are asked of the engine (`columns_of`).
- `arg_max(x, o)` / `arg_min(x, o)` -> `max_by(x, CASE WHEN x IS NOT NULL THEN o END)` (and
  `min_by`): DuckDB's skip the rows whose x is NULL, Spark's keep them (the facts' last assignee
  is the last assign event that names one); `arg_max_null` / `arg_min_null`, which keep them,
  -> plain `max_by` / `min_by`. A tuple `(a, b, c)` as the order is a struct in both (compared
  field by field).
- `hash(a, b, c)` -> `xxhash64(a, b, c)`: the facts key a (ticket, stream) by a 64-bit hash of its
  texts (Spark's `hash` has 32 bits: collisions among a few tens of thousands of tickets); the
  values differ from DuckDB's, which only serve as keys (a collision is detected on both
  engines and the derivation re-keyed by a struct of the texts).
- a named window used with a frame (`OVER (w ROWS BETWEEN ...)`), which Spark refuses, -> every
  use of a named window inlined (`WINDOW w AS (...)` dropped).
- a RANGE frame over an instant with `INTERVAL n MICROSECOND|MILLISECOND|SECOND|MINUTE|HOUR`
  bounds -> the same frame over `unix_micros(ts)` with bounds in microseconds: DuckDB adds such an
  interval as elapsed time, Spark adds the whole days of a day-time interval on the session's
  calendar (168 hours across a clock change would be 167 or 169 elapsed); and Spark wants both
  bounds of one interval type. (A DAY or MONTH bound, calendar time in both, is left as it is.)
- `WITH x AS MATERIALIZED (...)` -> `WITH x AS (...)`: a DuckDB planner hint Spark has no syntax for.
- `a ASOF LEFT JOIN b ON a.k = b.k AND b.t >= a.t` (the SLA clocks: the first solve at or after
  a cycle's start, the status at an instant) -> `a LEFT JOIN (nearest) b`, where `nearest` holds,
  for each distinct value of a's columns in the condition, the one row of b an ASOF join picks
  (the least `b.t` for `>=`/`>`, the greatest for `<=`/`<`), joined back on those values: Spark
  has no ASOF join. (The nearest rows carry a's values as `_cx_asof_<n>` columns beside b's.)
- `strftime(t, '%Y-%m-%dT%H:00')` -> `date_format(t, "yyyy-MM-dd'T'HH:00")`: every letter of a
  Spark datetime pattern is a field or reserved, so a format's literal letters go in quotes
  (sqlglot passes them through: hour periods, `--grain hour`, failed on Spark).
- `row_number() OVER ()` (numbers in no particular order: the SLA cycles' keys) -> ordered by
  `monotonically_increasing_id()`: Spark numbers rows only in an ordered window. Neither engine
  promises which row gets which number, so a statement with one is computed once and kept
  (`_spark_facts._view(keep=True)`) before two steps read it.

The session's time zone must be the workspace's (`spark.sql.session.timeZone`): DuckDB's
TIMESTAMPTZ and Spark's TIMESTAMP both hold instants and both bucket (`date_trunc`, `hour`,
`strftime`/`date_format`) on the session's clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import sqlglot
from sqlglot import exp

# DuckDB interval units -> make_interval's argument (years, months, weeks, days, hours, mins, secs)
_MAKE_INTERVAL = {"YEAR": 0, "MONTH": 1, "WEEK": 2, "DAY": 3, "HOUR": 4, "MINUTE": 5, "SECOND": 6}


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _double(e: exp.Expression) -> exp.Expression:
    return exp.cast(e, "DOUBLE")


def _split(micros: exp.Expression, unit: int, head: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """`head(micros DIV unit) + (micros % unit) / 1e6` in DOUBLE (DIV and % truncate, as C++'s do)."""
    whole = _double(exp.IntDiv(this=micros, expression=exp.Literal.number(unit)))
    rest = exp.Div(this=_double(exp.Mod(this=micros.copy(), expression=exp.Literal.number(unit))),
                   expression=exp.Literal.number(1_000_000))
    return exp.paren(exp.Add(this=head(whole), expression=rest))


def _epoch(node: exp.TimeToUnix) -> exp.Expression:
    """DuckDB's epoch() in Spark, to the last bit: for an instant (TIMESTAMPTZ) it is
    `(us DIV 1000) / 1e3 + (us % 1000) / 1e6`; for the interval between two instants (days of
    24 h and the rest) `days * 86400 + rest_us / 1e6`. (A plain `us / 1e6` differs from both in
    the last bit for a third of the values, which sums of durations then show.)"""
    arg = node.this
    if isinstance(arg, exp.Paren):
        arg = arg.this
    if isinstance(arg, exp.Sub):  # seconds between two instants
        micros = exp.paren(exp.Sub(this=_fn("unix_micros", arg.this), expression=_fn("unix_micros", arg.expression)))
        return _split(micros, 86_400_000_000, lambda days: exp.Mul(this=days, expression=exp.Literal.number(86_400)))
    return _split(_fn("unix_micros", arg), 1000, lambda ms: exp.Div(this=ms, expression=exp.Literal.number(1000)))


def _interval(node: exp.Interval) -> exp.Expression:
    unit = (node.unit.name if node.unit is not None else "").upper().rstrip("S")
    value = node.this
    if unit not in _MAKE_INTERVAL or not isinstance(value, exp.Literal):
        return node
    args: list[exp.Expression] = [exp.Literal.number(0) for _ in range(7)]
    args[_MAKE_INTERVAL[unit]] = exp.Literal.number(value.name)
    return _fn("make_interval", *args)


def _sequence(series: exp.GenerateSeries) -> exp.Expression:
    return _fn("explode", _fn("sequence", *[a for a in (series.args.get("start"), series.args.get("end"),
                                                        series.args.get("step")) if a]))


def _series(node: exp.Table) -> exp.Expression:
    return exp.Table(this=_sequence(node.this), alias=node.args.get("alias"))


def _lateral_series(select: exp.Select) -> None:
    """`FROM x, generate_series(x.a, x.b, s) g(v)` -> `FROM x LATERAL VIEW explode(sequence(...)) g AS v`
    (in place): Spark's table functions in FROM cannot see the columns of the tables before them."""
    joins = select.args.get("joins") or []
    series = [j for j in joins if isinstance(j.this, exp.Table) and isinstance(j.this.this, exp.GenerateSeries)]
    for join in series:
        table = join.this
        lateral = exp.Lateral(this=_sequence(table.this), view=True, alias=table.args.get("alias"))
        select.append("laterals", lateral)
    if series:
        select.set("joins", [j for j in joins if j not in series] or None)
    first = select.args.get("from_")
    if first is not None and isinstance(first.this, exp.Table) and isinstance(first.this.this, exp.GenerateSeries):
        first.set("this", _series(first.this))


def _star_replace(select: exp.Select) -> None:
    """`* REPLACE (e AS c)` -> `* EXCEPT (c), e AS c` (in place)."""
    out: list[exp.Expression] = []
    for item in select.expressions:
        star = item if isinstance(item, exp.Star) else item.this if isinstance(item, exp.Column) else None
        replace = star.args.get("replace") if isinstance(star, exp.Star) else None
        if not replace:
            out.append(item)
            continue
        except_ = list(star.args.get("except_") or []) + [exp.column(r.alias) for r in replace]
        star.set("replace", None)
        star.set("except_", except_)
        out += [item, *replace]
    select.set("expressions", out)


# microseconds in a unit of a RANGE frame bound (fixed-length units only)
_FRAME_MICROS = {"MICROSECOND": 1, "MILLISECOND": 1000, "SECOND": 1_000_000, "MINUTE": 60_000_000,
                 "HOUR": 3_600_000_000}


def _micros(node: exp.Expression) -> int | None:
    if not isinstance(node, exp.Interval) or not isinstance(node.this, exp.Literal):
        return None
    unit = (node.unit.name if node.unit is not None else "").upper().rstrip("S")
    return int(Decimal(node.this.name) * _FRAME_MICROS[unit]) if unit in _FRAME_MICROS else None


def _range_frame(window: exp.Window) -> exp.Window:
    """`ORDER BY ts RANGE BETWEEN INTERVAL 1 MICROSECOND FOLLOWING AND INTERVAL 168 HOUR FOLLOWING`
    -> `ORDER BY unix_micros(ts) RANGE BETWEEN 1 FOLLOWING AND 604800000000 FOLLOWING` (in place):
    elapsed time, as DuckDB counts it (see the module docstring)."""
    spec, order = window.args.get("spec"), window.args.get("order")
    if spec is None or str(spec.args.get("kind")).upper() != "RANGE" or order is None or len(order.expressions) != 1:
        return window
    bounds = {k: _micros(spec.args[k]) for k in ("start", "end") if isinstance(spec.args.get(k), exp.Interval)}
    if not bounds or None in bounds.values():
        return window
    for k, us in bounds.items():
        spec.set(k, exp.Literal.number(us))
    ordered = order.expressions[0]
    ordered.set("this", _fn("unix_micros", ordered.this))
    return window


_FORMAT_TEXT = re.compile(r"%.|([A-Za-z]+)")


def _quoted_text(fmt: str) -> str:
    """A strftime format with its literal letters quoted for Spark: '%dT%H' -> "%d'T'%H"."""
    return _FORMAT_TEXT.sub(lambda m: m.group(0) if m.group(1) is None else f"'{m.group(1)}'", fmt)


def _arg_by(node: exp.Expression, skip_null: bool) -> exp.Expression:
    """DuckDB's arg_max/arg_min (skip_null: rows whose value is NULL do not count) as max_by/min_by."""
    name = "max_by" if isinstance(node, exp.ArgMax) or node.name.lower().startswith("arg_max") else "min_by"
    value, order = (node.this, node.expression) if isinstance(node, (exp.ArgMax, exp.ArgMin)) else node.expressions
    if skip_null:
        order = exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=exp.paren(value.copy()), expression=exp.Null())),
                                     true=order)])
    return _fn(name, value, order)


def _inline_windows(select: exp.Select) -> None:
    """`OVER w` / `OVER (w ROWS ...)` -> the named window's definition (in place); the WINDOW clause goes."""
    named = {w.name: w for w in select.args.get("windows") or []}
    if not named:
        return
    for window in select.find_all(exp.Window):
        alias = window.args.get("alias")
        if alias is None or alias.name not in named:  # (the definitions themselves have no alias)
            continue
        base = named[alias.name]
        window.set("alias", None)
        window.set("partition_by", [e.copy() for e in base.args.get("partition_by") or []] or None)
        if base.args.get("order") is not None:
            window.set("order", base.args["order"].copy())
    select.set("windows", None)


_ASOF_NEAREST = {exp.GTE: "ASC", exp.GT: "ASC", exp.LTE: "DESC", exp.LT: "DESC"}
_FLIPPED = {exp.GTE: exp.LTE, exp.GT: exp.LT, exp.LTE: exp.GTE, exp.LT: exp.GT}


def _asof_joins(select: exp.Select) -> None:
    """Each `ASOF LEFT JOIN` of the FROM relation as a LEFT JOIN to its nearest rows (in place; see
    the module docstring)."""
    first = select.args.get("from_")
    for n, join in enumerate(select.args.get("joins") or []):
        if str(join.args.get("method") or "").upper() != "ASOF":
            continue
        if first is None or n > 0 or str(join.args.get("side") or "").upper() != "LEFT":
            raise ValueError(f"only an ASOF LEFT JOIN of the FROM relation renders for Spark: {join.sql('duckdb')}")
        left, right = first.this, join.this
        a, b = left.alias_or_name, right.alias_or_name
        conds = list(join.args["on"].flatten()) if isinstance(join.args["on"], exp.And) else [join.args["on"]]
        inequalities = [c for c in conds if type(c) in _ASOF_NEAREST]
        if len(inequalities) != 1:
            raise ValueError(f"an ASOF join needs one inequality to render for Spark: {join.sql('duckdb')}")
        ineq = inequalities[0]
        # b's side of the inequality first: b.t >= a.t
        kind = type(ineq) if ineq.this.find(exp.Column) is not None and ineq.this.find(exp.Column).table == b \
            else _FLIPPED[type(ineq)]
        b_side = ineq.this if kind is type(ineq) else ineq.expression
        a_cols: list[str] = []
        for col in join.args["on"].find_all(exp.Column):
            if col.table == a and col.name not in a_cols:
                a_cols.append(col.name)
        # the distinct values of a's columns, each with the row of b an ASOF join picks for them
        values = exp.select(*(exp.column(c, table=a) for c in a_cols)).distinct().from_(left.copy())
        on = join.args["on"].copy()
        for col in on.find_all(exp.Column):
            if col.table == a:
                col.set("table", exp.to_identifier("_cx_a"))
        rank = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(c, table="_cx_a") for c in a_cols],
                          order=exp.Order(expressions=[exp.Ordered(this=b_side.copy(),
                                                                   desc=_ASOF_NEAREST[kind] == "DESC")]))
        ranked = (exp.select(*(exp.alias_(exp.column(c, table="_cx_a"), f"_cx_asof_{i}") for i, c in enumerate(a_cols)),
                             exp.Column(this=exp.Star(), table=exp.to_identifier(b)), exp.alias_(rank, "_cx_asof_rn"))
                  .from_(values.subquery("_cx_a")).join(right.copy(), on=on, join_type="inner"))
        nearest = exp.select("*").from_(ranked.subquery("_cx_r")).where("_cx_asof_rn = 1")
        join.set("method", None)
        join.set("this", nearest.subquery(b))
        join.set("on", exp.and_(*(exp.EQ(this=exp.column(f"_cx_asof_{i}", table=b), expression=exp.column(c, table=a))
                                  for i, c in enumerate(a_cols))))


def _map(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.PercentileCont) and isinstance(node.expression, exp.Array):
        return _fn("percentile", node.this, _fn("array", *node.expression.expressions))
    if isinstance(node, exp.TimeToUnix):
        return _epoch(node)
    if isinstance(node, exp.Interval) and isinstance(node.parent, exp.WindowSpec):
        return node  # a frame bound: the window's (`_range_frame`)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) and not node.args.get("partition_by") \
            and node.args.get("order") is None:  # numbers in no particular order (see the module docstring)
        node.set("order", exp.Order(expressions=[exp.Ordered(this=_fn("monotonically_increasing_id"))]))
        return node
    if isinstance(node, exp.Window):
        return _range_frame(node)
    if isinstance(node, exp.Interval):
        return _interval(node)
    if isinstance(node, (exp.ArgMax, exp.ArgMin)):
        return _arg_by(node, skip_null=True)
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("arg_max_null", "arg_min_null"):
        return _arg_by(node, skip_null=False)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":  # a key: 64 bits, as DuckDB's
        return _fn("xxhash64", *node.expressions)
    if isinstance(node, exp.TimeToStr) and isinstance(node.args.get("format"), exp.Literal):
        node.set("format", exp.Literal.string(_quoted_text(node.args["format"].name)))
        return node
    if isinstance(node, exp.ArrayOverlaps):
        return _fn("arrays_overlap", node.this, node.expression)
    if isinstance(node, exp.ArraySize):  # Spark's size(NULL) is -1 (legacy sizeOfNull, ANSI off), DuckDB's NULL
        return exp.If(this=exp.Is(this=node.this.copy(), expression=exp.Null()), true=exp.Null(),
                      false=_fn("size", node.this))
    if isinstance(node, exp.DayOfWeekIso):
        # sqlglot writes (dayofweek(t) % 7) + 1, which is 3 for a Monday (Spark's dayofweek counts
        # from Sunday = 1); Spark's weekday() counts from Monday = 0, on the session's clock
        return exp.Add(this=_fn("weekday", node.this), expression=exp.Literal.number(1))
    if isinstance(node, exp.Div):
        # DuckDB's `/` answers DOUBLE for integers and DECIMALs alike; Spark keeps a DECIMAL
        # quotient (rounded to its scale): the dividend as DOUBLE makes Spark divide as DuckDB does
        return exp.Div(this=exp.cast(node.this, "DOUBLE"), expression=node.expression)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":  # microseconds since 1970
        return _fn("unix_micros", *node.expressions)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "make_timestamptz" and len(node.expressions) == 1:
        return _fn("timestamp_micros", *node.expressions)  # the instant n microseconds after 1970
    if isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" and len(node.expressions) == 2:
        zone, ts = node.expressions  # the instant's wall-clock time in the zone, as DuckDB's timezone()
        return _fn("from_utc_timestamp", ts, zone)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "current_setting" \
            and node.expressions and node.expressions[0].name.lower() == "timezone":
        return _fn("current_timezone")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "error":  # a query that refuses a request
        return _fn("raise_error", *node.expressions)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_microseconds":
        (n,) = node.expressions
        secs = exp.Div(this=exp.cast(n, "DECIMAL(38, 0)"), expression=exp.Literal.number(1000000))
        return _fn("make_dt_interval", exp.Literal.number(0), exp.Literal.number(0), exp.Literal.number(0), secs)
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)  # DuckDB's planner hint; Spark has none (its plans reuse exchanges)
    if isinstance(node, exp.Select):
        _asof_joins(node)
        _star_replace(node)
        _lateral_series(node)
        _inline_windows(node)
    return node


def _bottom_up(tree: exp.Expression) -> exp.Expression:
    """`_map` applied to every node, children before their parents (sqlglot's `transform`
    does not descend into a node it has replaced)."""
    for node in reversed(list(tree.dfs())):
        new = _map(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def _standalone(side: exp.Expression, union: exp.Union) -> str:
    """A side of a union as Spark SQL that runs alone: with the CTEs of the statement around it
    (`WITH calls AS (...) SELECT * FROM (SELECT * FROM calls UNION ALL BY NAME ...)`)."""
    ctes: list[exp.Expression] = []
    node: exp.Expression | None = union
    while node is not None:
        with_ = node.args.get("with_")
        if with_ is not None:
            ctes = [c.copy() for c in with_.expressions] + ctes
        node = node.parent
    query = side.copy()
    if ctes and isinstance(query, exp.Query):
        own = query.args.get("with_")
        query.set("with_", exp.With(expressions=ctes + ([c.copy() for c in own.expressions] if own else [])))
    return query.sql(dialect="spark")


def _by_name(union: exp.Union, columns_of: Callable[[str], list[str]]) -> exp.Expression:
    """A BY NAME union as a positional one: each side selects every column of both, by name."""
    left, right = union.this, union.expression
    cols_l, cols_r = columns_of(_standalone(left, union)), columns_of(_standalone(right, union))
    names = [*cols_l, *(c for c in cols_r if c not in cols_l)]

    def side(query: exp.Expression, has: list[str], alias: str) -> exp.Expression:
        cols = [exp.column(c, table=alias, quoted=True) if c in has else exp.alias_(exp.Null(), c, quoted=True)
                for c in names]
        return exp.select(*cols).from_(query.subquery(alias))

    union.set("by_name", None)
    union.set("this", side(left, cols_l, "_l"))
    union.set("expression", side(right, cols_r, "_r"))
    return union


def _elapsed(tree: exp.Expression) -> exp.Expression:
    """`t + to_microseconds(n)` -> `make_timestamptz(epoch_us(t) + n)` (and `-`), in DuckDB's terms
    (the same instant there), before the mappings render it: elapsed time on both engines."""
    for node in reversed(list(tree.dfs())):
        us = node.expression if isinstance(node, (exp.Add, exp.Sub)) else None
        if not (isinstance(us, exp.Anonymous) and us.name.lower() == "to_microseconds" and len(us.expressions) == 1):
            continue
        shifted = type(node)(this=_fn("epoch_us", node.this.copy()), expression=exp.paren(us.expressions[0].copy()))
        new = _fn("make_timestamptz", shifted)
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree


def to_spark(sql: str, columns_of: Callable[[str], list[str]] | None = None, *, pretty: bool = False) -> str:
    """Spark SQL for a query in cxmetrics' (DuckDB) dialect. `columns_of(spark_sql)` names the
    columns of a query (the engine's answer), needed only for `UNION BY NAME`.

    >>> to_spark("SELECT count(*) FILTER (WHERE solved AND frt_s > 60) AS n FROM t")
    'SELECT COUNT(*) FILTER(WHERE solved AND frt_s > 60) AS n FROM t'
    >>> to_spark("SELECT list_has_any(tags, ['vip']) AS vip FROM t")
    "SELECT ARRAYS_OVERLAP(tags, ARRAY('vip')) AS vip FROM t"
    """
    tree = _bottom_up(_elapsed(sqlglot.parse_one(sql, read="duckdb")))
    unions = [u for u in tree.find_all(exp.Union, bfs=False) if u.args.get("by_name")]
    if unions and columns_of is None:
        raise ValueError("rendering UNION BY NAME for Spark needs columns_of (the engine's column names of a query)")
    for union in reversed(unions):  # innermost first: an outer side's columns include the inner union's
        union.replace(_by_name(union, columns_of))  # type: ignore[arg-type]
    return tree.sql(dialect="spark", pretty=pretty)
