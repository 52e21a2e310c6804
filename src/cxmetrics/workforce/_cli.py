"""`cxmetrics staffing`: the agents one interval needs (Erlang C, or Erlang A with `--patience`), or with
`--plan` every interval of the forecast (docs/workforce.md)."""

from __future__ import annotations

import json
import re

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly, open_workspace
from cxmetrics._output import render
from cxmetrics.errors import UserError
from cxmetrics.workforce.erlang import staff

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600}


def seconds(text: str, what: str, default_unit: str = "s") -> float:
    """'30m' -> 1800, '1h' -> 3600, '180' -> 180 (in `default_unit`)."""
    found = _DURATION.match(text)
    if not found:
        raise UserError(f"{what} '{text}' is not a duration: give a number with s, m or h, e.g. 30m or 180s.")
    return float(found.group(1)) * _UNIT_S[found.group(2) or default_unit]


def share(text: str, what: str) -> float:
    """'30%' or '0.3' -> 0.3."""
    raw = text.strip()
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UserError(f"{what} '{text}' is not a share: give a percentage such as 30% or a fraction "
                        "such as 0.3.") from None


def target(text: str) -> tuple[float, float]:
    """'80/20' -> (0.8, 20.0): the share answered within the seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)%?\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*", text)
    if not found:
        raise UserError(f"target '{text}' is not a service level: give PERCENT/SECONDS, e.g. 80/20 "
                        "(80% answered within 20 seconds).")
    return float(found.group(1)) / 100, float(found.group(2))


def _patience(text: str | None, plan: bool) -> float | str | None:
    """--patience: seconds (120, 2m), 'auto' (plan: per channel from abandonment) or 'none'."""
    if text is None:
        return "auto" if plan else None
    word = text.strip().lower()
    if word == "none":
        return None
    if word == "auto":
        if not plan:
            raise UserError("--patience auto estimates patience from the workspace's abandoned calls: it goes "
                            "with --plan; for one interval give seconds, e.g. --patience 120.")
        return "auto"
    return seconds(text, "--patience")


@click.command("staffing")
@click.option("--volume", type=float, default=None, help="Contacts expected in the interval (without --plan).")
@click.option("--interval", default="30m", show_default=True, help="The interval's length: 15m, 30m, 1h...")
@click.option("--aht", default=None,
              help="Average handle time per contact: seconds, or with a unit (3m) (without --plan).")
@click.option("--target", "sl_target", default="80/20", show_default=True,
              help="Service level: PERCENT/SECONDS answered within, e.g. 80/20; 'none' for no service-level target.")
@click.option("--max-pwait", default=None, help="Also: at most this probability of waiting (e.g. 0.5 or 50%).")
@click.option("--max-occupancy", default=None, help="Also: at most this occupancy (e.g. 85%).")
@click.option("--shrinkage", default="0%", show_default=True,
              help="Share of paid time off the phones (breaks, training, absence), e.g. 30%.")
@click.option("--patience", default=None,
              help="Callers' mean patience before hanging up (seconds or 2m): Erlang A. With --plan: 'auto' "
                   "(default, per channel from abandonment), seconds, or 'none' (Erlang C).")
@click.option("--plan", "as_plan", is_flag=True, help="Staff every interval of the workspace's forecast.")
@click.option("--from", "start", default=None, help="With --plan: first day or time (default: the end of history).")
@click.option("--to", "end", default=None, help="With --plan: end, exclusive (default: 14 days after --from).")
@click.option("--channel", default=None, help="With --plan: only this channel (default: every channel).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
@fail_cleanly
def staffing_cmd(ctx: click.Context, volume: float | None, interval: str, aht: str | None, sl_target: str,
                 max_pwait: str | None, max_occupancy: str | None, shrinkage: str, patience: str | None,
                 as_plan: bool, start: str | None, end: str | None, channel: str | None, fmt: str) -> None:
    """Agents one interval needs (Erlang C; Erlang A with --patience), with the service level,
    P(wait), ASA and occupancy they achieve, then after shrinkage; or, with --plan, the same for
    every interval of the forecast, against what happened (docs/workforce.md)."""
    level, within = (None, None) if sl_target.strip().lower() == "none" else target(sl_target)
    max_p_wait = None if max_pwait is None else share(max_pwait, "--max-pwait")
    max_occ = None if max_occupancy is None else share(max_occupancy, "--max-occupancy")
    cut = share(shrinkage, "--shrinkage")
    if as_plan:
        if volume is not None or aht is not None:
            raise UserError("--plan takes the volume and the AHT from the workspace's history: leave out "
                            "--volume and --aht (or leave out --plan to staff one interval).")
        _plan(ctx, start, end, channel, interval, level, within, max_p_wait, max_occ, cut,
              _patience(patience, True), fmt)
        return
    if start is not None or end is not None or channel is not None:
        raise UserError("--from, --to and --channel go with --plan (every interval of the forecast).")
    if volume is None or aht is None:
        raise UserError("give --volume and --aht for one interval (e.g. --volume 100 --aht 180), "
                        "or --plan for every interval of the workspace's forecast.")
    pat = _patience(patience, False)
    found = staff(volume, seconds(interval, "--interval", "m"), seconds(aht, "--aht"),
                  service_level=level, answer_within_s=within if within is not None else 20.0,
                  max_p_wait=max_p_wait, max_occupancy=max_occ, shrinkage=cut,
                  patience_s=pat if isinstance(pat, float) else None)
    if fmt != "table":
        click.echo(render(pa.Table.from_pylist([found.as_dict()]), "csv") if fmt == "csv"
                   else json.dumps(found.as_dict(), indent=2))
        return
    within_s = f"{within:g} s" if within is not None else "20 s"
    model = ("Erlang A, patience " f"{found.patience_s:g} s") if found.model == "erlang_a" else "Erlang C"
    rows = [("model", model), ("traffic (Erlangs)", f"{found.traffic:.2f}"), ("agents needed", f"{found.agents}"),
            (f"service level (answered within {within_s})", f"{found.service_level:.1%}"),
            ("P(wait)", f"{found.p_wait:.1%}")]
    if found.p_abandon is not None:
        rows.append(("P(abandon)", f"{found.p_abandon:.1%}"))
    rows += [("ASA", f"{found.asa_s:.1f} s"), ("occupancy", f"{found.occupancy:.1%}"),
             (f"scheduled after {found.shrinkage:.0%} shrinkage", f"{found.scheduled}")]
    click.echo(render(pa.table({"": [r[0] for r in rows], "value": [r[1] for r in rows]}), "table"))


# the plan's columns a terminal table shows (json and csv carry every column)
_TABLE_COLUMNS = ("channel", "interval_start", "volume", "aht_s", "agents", "scheduled", "service_level",
                  "p_abandon", "staffed", "actual_volume", "actual_service_level")


def _plan(ctx: click.Context, start: str | None, end: str | None, channel: str | None, interval: str,
          level: float | None, within: float | None, max_p_wait: float | None, max_occ: float | None,
          cut: float, pat: float | str | None, fmt: str) -> None:
    from cxmetrics.workforce._plan import plan

    with open_workspace(ctx) as ws:
        table = plan(ws, start=start, end=end, channel=channel, interval=interval, service_level=level,
                     answer_within_s=within if within is not None else 20.0, max_p_wait=max_p_wait,
                     max_occupancy=max_occ, shrinkage=cut, patience_s=pat)
    skipped = (table.schema.metadata or {}).get(b"skipped")
    if skipped:
        click.echo(f"not planned (no handle times in their history): {skipped.decode().replace(',', ', ')}", err=True)
    if fmt == "table":  # the model of each channel once, on stderr: the table stays data
        seen = {(r["channel"], r["model"], r["patience_s"]) for r in table.select(["channel", "model", "patience_s"])
                .to_pylist() if r["model"] != "none"}  # "none": no contact expected, nobody planned
        for name, model, waits in sorted(seen, key=lambda k: (k[0], k[1])):
            how = (f"Erlang A, patience {waits:.0f} s" + (" (from abandonment)" if pat == "auto" else "")
                   if model == "erlang_a" else "Erlang C" + (" (no abandons to estimate patience from)"
                                                             if pat == "auto" else ""))
            click.echo(f"{name}: {how}", err=True)
        table = table.select(list(_TABLE_COLUMNS))
    click.echo(render(table, fmt))
