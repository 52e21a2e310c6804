"""`cxmetrics staffing`: the agents one interval needs, by Erlang C (docs/workforce.md)."""

from __future__ import annotations

import json
import re

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly
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
        raise UserError(f"{what} '{text}' is not a share: give a percentage such as 30% or a fraction such as 0.3.") from None


def target(text: str) -> tuple[float, float]:
    """'80/20' -> (0.8, 20.0): the share answered within the seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)%?\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*", text)
    if not found:
        raise UserError(f"target '{text}' is not a service level: give PERCENT/SECONDS, e.g. 80/20 "
                        "(80% answered within 20 seconds).")
    return float(found.group(1)) / 100, float(found.group(2))


@click.command("staffing")
@click.option("--volume", type=float, required=True, help="Contacts expected in the interval.")
@click.option("--interval", default="30m", show_default=True, help="The interval's length: 15m, 30m, 1h...")
@click.option("--aht", required=True, help="Average handle time per contact: seconds, or with a unit (3m).")
@click.option("--target", "sl_target", default="80/20", show_default=True,
              help="Service level: PERCENT/SECONDS answered within, e.g. 80/20; 'none' for no service-level target.")
@click.option("--max-pwait", default=None, help="Also: at most this probability of waiting (e.g. 0.5 or 50%).")
@click.option("--max-occupancy", default=None, help="Also: at most this occupancy (e.g. 85%).")
@click.option("--shrinkage", default="0%", show_default=True,
              help="Share of paid time off the phones (breaks, training, absence), e.g. 30%.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@fail_cleanly
def staffing_cmd(volume: float, interval: str, aht: str, sl_target: str, max_pwait: str | None,
                 max_occupancy: str | None, shrinkage: str, fmt: str) -> None:
    """Agents one interval needs by Erlang C, with the service level, P(wait), ASA and occupancy
    they achieve, then after shrinkage (docs/workforce.md)."""
    level, within = (None, None) if sl_target.strip().lower() == "none" else target(sl_target)
    found = staff(volume, seconds(interval, "--interval", "m"), seconds(aht, "--aht"),
                  service_level=level, answer_within_s=within if within is not None else 20.0,
                  max_p_wait=None if max_pwait is None else share(max_pwait, "--max-pwait"),
                  max_occupancy=None if max_occupancy is None else share(max_occupancy, "--max-occupancy"),
                  shrinkage=share(shrinkage, "--shrinkage"))
    if fmt == "json":
        click.echo(json.dumps(found.as_dict(), indent=2))
        return
    within_s = f"{within:g} s" if within is not None else "20 s"
    rows = [("traffic (Erlangs)", f"{found.traffic:.2f}"), ("agents needed", f"{found.agents}"),
            (f"service level (answered within {within_s})", f"{found.service_level:.1%}"),
            ("P(wait)", f"{found.p_wait:.1%}"), ("ASA", f"{found.asa_s:.1f} s"),
            ("occupancy", f"{found.occupancy:.1%}"),
            (f"scheduled after {found.shrinkage:.0%} shrinkage", f"{found.scheduled}")]
    click.echo(render(pa.table({"": [r[0] for r in rows], "value": [r[1] for r in rows]}), "table"))
