"""Per-column parsing and checking, as SQL expressions the engine runs over whole files.

Each canonical column becomes a typed expression over the raw (text) value and, where
the raw value is present but unusable, a reason a person understands. Nothing here
loops over rows: the expressions are vectorised by the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cxmetrics.ingest._mapping import Mapping
from cxmetrics.model import Column, ColType


def ident(name: str) -> str:
    """Quote an identifier for SQL."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal for SQL."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class DaySQL:
    """Where a bare time of day finds its date (see Mapping.date_column): SQL texts of
    the date column and of the `next_day_before` column (None without one)."""

    date: str
    anchor: str | None = None


@dataclass(frozen=True)
class ColumnSQL:
    typed: str  # expression of the canonical type
    reason: str | None  # expression: NULL when fine, else why the value is unusable


# the engine's number types as a file's schema names them (DECIMAL(18,3), UBIGINT, FLOAT...)
_NUMERIC = re.compile(r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+, ?\d+\)")
_WHOLE = re.compile(r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)")


#: a reference the import's stage has trimmed already (`trimmed_ref`): text_value is the ref itself
_TRIMMED = re.compile(r"_t\d+")


def trimmed_ref(i: int) -> str:
    """The name of the stage's column holding raw text column `i` as `trimmed_sql` gives it:
    the stage computes it once, where each typed value and check would trim it again (a third
    of a flat import's stage time went to trimming the same values)."""
    return f"_t{i}"


def trimmed_sql(raw: str) -> str:
    """Text column `raw` trimmed, '' as NULL, as text_value gives it, faster over many rows:
    trim copies every value, and most have nothing to cut, so only a value that starts or ends
    with a space, or holds a non-ASCII character (trim cuts Unicode spaces too), is trimmed (a
    flat import's stage at 1M rows: 0.84 -> 0.54 s with `trimmed_ref`)."""
    return (f"nullif(CASE WHEN {raw} LIKE ' %' OR {raw} LIKE '% ' OR strlen({raw}) <> length({raw}) "
            f"THEN trim({raw}) ELSE {raw} END, '')")


def text_value(raw: str, raw_type: str) -> str:
    """The raw value as trimmed text, with empty strings as NULL."""
    if _TRIMMED.fullmatch(raw):
        return raw
    as_text = raw if raw_type == "VARCHAR" else f"CAST({raw} AS VARCHAR)"
    return f"nullif(trim({as_text}), '')"


def _shown(v: str) -> str:
    # values quoted in messages are cut so a huge field cannot flood the quarantine
    return f"left({v}, 80)"


def mapped_text(col: Column, raw: str, raw_type: str, mapping: Mapping) -> str:
    """The raw value as text after the mapping's [values] (a value mapped to "" is none:
    NO_SERVER = no agent) and, for timestamps, its "no time" values: NULL when absent."""
    v = text_value(raw, raw_type)
    vmap = mapping.values.get(col.name)
    if vmap:
        cases = " ".join(f"WHEN {lit(k.strip().lower())} THEN {lit(t)}" for k, t in vmap.items())
        v = f"nullif(CASE lower({v}) {cases} ELSE {v} END, '')"
    return null_times(v, mapping) if col.type is ColType.TIMESTAMP else v


def column_sql(col: Column, raw: str | None, raw_type: str, mapping: Mapping, ref: str | None = None,
               day: DaySQL | None = None) -> ColumnSQL:
    """SQL for one canonical column read from `raw` (None when the file lacks it).

    The reason refers to the typed value as `ref` when given (the typed column of an
    enclosing query), so the engine parses each value once. `day` dates the timestamp
    values that are a bare time of day."""
    if raw is None:
        return ColumnSQL(f"CAST(NULL AS {col.sql_type})", None)
    v = mapped_text(col, raw, raw_type, mapping)
    name = col.name
    if col.type is ColType.TEXT:
        if col.values is not None or name in ("channel", "priority"):
            typed = f"lower({v})"
        else:
            typed = v
        reason = None
        if col.values is not None:
            allowed = ", ".join(lit(x) for x in col.values)
            reason = (
                f"CASE WHEN {ref or typed} NOT IN ({allowed}) THEN "
                f"'{name} ''' || {_shown(v)} || ''' is not one of {', '.join(col.values)}' END"
            )
        return ColumnSQL(typed, reason)
    if col.type is ColType.TIMESTAMP:
        typed = timestamp_sql(raw, raw_type, v, mapping)
        hint = (
            "a timestamp in the format the mapping sets" if mapping.ts_formats
            else "an ISO 8601 timestamp such as 2025-03-14T09:30:00Z (for day-first dates set [timestamps] dayfirst = true in a mapping)"
        )
        if day is not None:
            typed = time_of_day_sql(v, typed, day, mapping)
            hint = (f"a time of day ({' or '.join(mapping.time_formats)}) with a date ({' or '.join(mapping.date_formats)}) "
                    f"in column {mapping.date_column}, nor {hint}").replace("'", "''")
        return ColumnSQL(typed, f"CASE WHEN {v} IS NOT NULL AND {ref or typed} IS NULL THEN '{name} ''' || {_shown(v)} || ''' is not {hint}' END")
    if col.type in (ColType.INTEGER, ColType.NUMBER):
        # a number the file types as one (Parquet, Arrow) is not read back from its text
        typed_raw = _NUMERIC.fullmatch(raw_type) is not None and not mapping.values.get(col.name)
        whole_raw = typed_raw and _WHOLE.fullmatch(raw_type) is not None
        num = f"CAST({raw} AS DOUBLE)" if typed_raw else f"try_cast({v} AS DOUBLE)"
        if col.type is ColType.INTEGER:
            typed = (f"try_cast({raw} AS BIGINT)" if whole_raw
                     else f"CAST(CASE WHEN {num} = round({num}) THEN {num} END AS BIGINT)")
            what = "a whole number"
        else:
            typed = num if whole_raw else f"CASE WHEN isfinite({num}) THEN {num} END"
            what = "a number"
        given = raw if typed_raw else v
        parts = [f"WHEN {given} IS NOT NULL AND {ref or typed} IS NULL THEN '{name} ''' || {_shown(v)} || ''' is not {what}'"]
        if col.min is not None:
            parts.append(f"WHEN {ref or typed} < {col.min} THEN '{name} ' || {v} || ' is below {col.min:g}'")
        if col.max is not None:
            parts.append(f"WHEN {ref or typed} > {col.max} THEN '{name} ' || {v} || ' is above {col.max:g}'")
        return ColumnSQL(typed, "CASE " + " ".join(parts) + " END")
    if col.type is ColType.BOOLEAN:
        typed = (
            f"CASE WHEN lower({v}) IN ('true','t','yes','y','1') THEN true "
            f"WHEN lower({v}) IN ('false','f','no','n','0') THEN false END"
        )
        return ColumnSQL(typed, f"CASE WHEN {v} IS NOT NULL AND {ref or typed} IS NULL THEN '{name} ''' || {_shown(v)} || ''' is not true or false' END")
    if col.type is ColType.TAGS:
        if raw_type.endswith("[]"):
            return ColumnSQL(f"CAST({raw} AS VARCHAR[])", None)
        typed = (
            f"CASE WHEN {v} LIKE '[%' THEN try_cast(json_extract_string(try_cast({v} AS JSON), '$[*]') AS VARCHAR[]) "
            f"ELSE list_filter(string_split_regex({v}, '[,;\\s]+'), lambda x: x <> '') END"
        )
        return ColumnSQL(typed, f"CASE WHEN {v} IS NOT NULL AND {ref or typed} IS NULL THEN '{name} ''' || {_shown(v)} || ''' is not a list of tags' END")
    if col.type is ColType.PERIOD:
        start = period_start_sql(v)
        reason = (
            f"CASE WHEN {v} IS NOT NULL AND {start} IS NULL THEN '{name} ''' || {_shown(v)} || "
            "''' is not a period such as 2025-03, 2025-Q1, 2025-W10, 2025 or 2025-03-14' END"
        )
        return ColumnSQL(v, reason)
    raise AssertionError(f"no SQL for column type {col.type}")  # pragma: no cover - closed enum


def timestamp_sql(raw: str, raw_type: str, v: str, mapping: Mapping) -> str:
    """A TIMESTAMPTZ from a raw value. Naive values are read in the session time zone,
    which the importer sets to the mapping's (or the workspace's) zone."""
    if raw_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return raw
    if raw_type.startswith("TIMESTAMP") or raw_type == "DATE":
        return f"CAST(CAST({raw} AS TIMESTAMP) AS TIMESTAMPTZ)"
    formats = mapping.ts_formats
    if formats == ("epoch",):
        return f"to_timestamp(try_cast({v} AS DOUBLE))"
    if formats == ("epoch_ms",):
        return f"to_timestamp(try_cast({v} AS DOUBLE) / 1000.0)"
    if formats:
        fmt_list = "[" + ", ".join(lit(f) for f in formats) + "]"
        parsed = f"try_strptime({v}, {fmt_list})"
        if any("%z" in f or "%Z" in f for f in formats):
            return parsed
        # a naive parse becomes a wall-clock time in the session zone
        return f"CAST({parsed} AS TIMESTAMPTZ)"
    return f"try_cast({v} AS TIMESTAMPTZ)"


NEXT_DAY_S = 12 * 3600  # a time of day this much before next_day_before's is on the next day


def null_times(v: str, mapping: Mapping) -> str:
    """A timestamp column's text with the mapping's "no time" values (0:00:00...) as NULL."""
    if not mapping.ts_nulls:
        return v
    return f"(CASE WHEN {v} IN ({', '.join(lit(n) for n in mapping.ts_nulls)}) THEN NULL ELSE {v} END)"


def time_of_day_sql(v: str, full: str, day: DaySQL, mapping: Mapping) -> str:
    """A value that is a bare time of day, on the date of `day.date` (a day later when
    more than 12 hours before the time of `day.anchor`: a call that went on past midnight;
    a time a little before it is clock skew or an error, which the kind's checks judge);
    any other value is read by `full`, the usual timestamp expression. Naive: in the
    session zone."""
    times = "[" + ", ".join(lit(f) for f in mapping.time_formats) + "]"
    dates = "[" + ", ".join(lit(f) for f in mapping.date_formats) + "]"
    tod = f"CAST(try_strptime({v}, {times}) AS TIME)"
    later = "INTERVAL 0 DAY"
    if day.anchor is not None:
        anchor = f"CAST(try_strptime({null_times(day.anchor, mapping)}, {times}) AS TIME)"
        later = f"CASE WHEN epoch({tod}) < epoch({anchor}) - {NEXT_DAY_S} THEN INTERVAL 1 DAY ELSE INTERVAL 0 DAY END"
    on_date = f"CAST(try_strptime({day.date}, {dates}) AS DATE) + {tod} + {later}"
    return f"(CASE WHEN {tod} IS NOT NULL THEN CAST({on_date} AS TIMESTAMPTZ) ELSE {full} END)"


def period_start_sql(v: str) -> str:
    """First day of a period written as YYYY, YYYY-Qn, YYYY-MM, YYYY-Www or YYYY-MM-DD."""
    return f"""(CASE
        WHEN regexp_full_match({v}, '\\d{{4}}') THEN make_date(CAST({v} AS INTEGER), 1, 1)
        WHEN regexp_full_match({v}, '\\d{{4}}-Q[1-4]') THEN make_date(CAST(left({v}, 4) AS INTEGER), CAST(right({v}, 1) AS INTEGER) * 3 - 2, 1)
        WHEN regexp_full_match({v}, '\\d{{4}}-(0[1-9]|1[0-2])') THEN make_date(CAST(left({v}, 4) AS INTEGER), CAST(right({v}, 2) AS INTEGER), 1)
        WHEN regexp_full_match({v}, '\\d{{4}}-W(0[1-9]|[1-4][0-9]|5[0-3])') THEN
            CAST(make_date(CAST(left({v}, 4) AS INTEGER), 1, 4)
                 - INTERVAL (isodow(make_date(CAST(left({v}, 4) AS INTEGER), 1, 4)) - 1) DAY
                 + INTERVAL ((CAST(right({v}, 2) AS INTEGER) - 1) * 7) DAY AS DATE)
        WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN try_cast({v} AS DATE)
    END)"""


def period_end_sql(v: str) -> str:
    """The day after a period's last day (periods are half-open)."""
    start = period_start_sql(v)
    return f"""(CASE
        WHEN length({v}) = 4 THEN CAST({start} + INTERVAL 1 YEAR AS DATE)
        WHEN {v} LIKE '____-Q_' THEN CAST({start} + INTERVAL 3 MONTH AS DATE)
        WHEN {v} LIKE '____-W__' THEN CAST({start} + INTERVAL 7 DAY AS DATE)
        WHEN length({v}) = 7 THEN CAST({start} + INTERVAL 1 MONTH AS DATE)
        ELSE CAST({start} + INTERVAL 1 DAY AS DATE)
    END)"""
