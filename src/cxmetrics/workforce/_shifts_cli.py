"""`cxmetrics shifts ...`: cover a requirement with shift patterns, expand patterns into shift
rows, and staffed agents and occupancy per interval (docs/workforce.md, "Shifts and occupancy")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly, open_workspace, workspace_path
from cxmetrics._output import FORMATS, render
from cxmetrics.errors import UserError
from cxmetrics.settings import Settings
from cxmetrics.workforce._patterns import Patterns, cover, expand, read_patterns

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise UserError(f"{what} '{text}' is not a list of numbers: give them comma-separated, e.g. 1,1,0,4.") \
            from None


def _slot(patterns: Patterns, k: int) -> str:
    hh, mm = divmod(k * patterns.slot_s // 60, 60)
    return f"{hh:02d}:{mm:02d}"


def _open(ctx: click.Context, create: bool = False) -> Workspace:
    return open_workspace(ctx, create=create)


@click.group("shifts")
def shifts_group() -> None:
    """Agents' shifts: cover a requirement with shift patterns, expand patterns into shifts, and
    staffed agents and occupancy per interval (docs/workforce.md). Import actual shifts with
    `cxmetrics import shifts FILE`."""


@shifts_group.command("cover")
@click.argument("patterns", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--required", required=True,
              help="Agents required in each slot of the day from midnight, comma-separated (24 for hourly patterns).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@fail_cleanly
def cover_cmd(patterns: Path, required: str, fmt: str) -> None:
    """The fewest agents per pattern of PATTERNS (a CSV of 0/1 columns, one row per slot of the
    day) so that every slot has at least the required agents (an integer programme)."""
    found = read_patterns(patterns)
    need = _numbers(required, "--required")
    counts = cover(need, found)
    have = found.coverage(counts)
    if fmt == "json":
        click.echo(json.dumps({"agents": counts, "total": sum(counts.values()),
                               "slots": [{"slot": _slot(found, k), "required": r, "staffed": h}
                                         for k, (r, h) in enumerate(zip(need, have))]}, indent=2))
        return
    click.echo(render(pa.table({"pattern": list(counts), "agents": list(counts.values())}), "table"))
    click.echo(f"\ntotal: {sum(counts.values())} agents\n")
    click.echo(render(pa.table({"slot": [_slot(found, k) for k in range(len(need))],
                                "required": [f"{r:g}" for r in need], "staffed": have,
                                "surplus": [f"{h - r:g}" for r, h in zip(need, have)]}), "table"))


@shifts_group.command("expand")
@click.argument("patterns", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--agents", required=True, help="Agents per pattern, in the file's column order, comma-separated.")
@click.option("--from", "start", required=True, help="First day, e.g. 1999-02-01.")
@click.option("--to", "end", required=True, help="Last day (included), e.g. 1999-02-28.")
@click.option("--timezone", help="Time zone of the patterns' clock (default: the workspace's).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the shifts CSV here (default: standard output).")
@click.option("--import", "do_import", is_flag=True, help="Import the shifts into the workspace instead.")
@click.option("--source", help="With --import: the rows' source (default 'default').")
@click.pass_context
@fail_cleanly
def expand_cmd(ctx: click.Context, patterns: Path, agents: str, start: str, end: str, timezone: str | None,
               output: Path | None, do_import: bool, source: str | None) -> None:
    """Shift rows for the agents per pattern on every day from --from to --to: one `available`
    row per agent, day and block of the pattern (agent ids such as Shift3-02), as a shifts CSV
    or (--import) imported through the import's checks."""
    found = read_patterns(patterns)
    counts = [int(n) if n == int(n) else -1 for n in _numbers(agents, "--agents")]
    if any(n < 0 for n in counts):
        raise UserError(f"--agents '{agents}' must be whole numbers of agents, 0 or more.")
    if do_import:
        with _open(ctx, create=True) as ws:
            rows = expand(found, counts, start, end, timezone or ws.settings.timezone)
            click.echo(str(ws.import_table("shifts", rows, source=source,
                                           label=f"shifts expand {patterns.name} {start}..{end}")))
        return
    tz = timezone or Settings.load(workspace_path(ctx) / "settings.toml").timezone
    text = render(expand(found, counts, start, end, tz), "csv") + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {text.count(chr(10)) - 1} shifts to {output}", err=True)


@shifts_group.command("staffed")
@click.option("--interval", default="30m", show_default=True, help="Interval length: 15m, 30m, 1h... or 1d.")
@click.option("--from", "start", help="From this day or time (default: the first shift).")
@click.option("--to", "end", help="Up to this day or time, excluded (default: the last shift's end).")
@click.option("--channel", help="Only agents serving this channel (theirs and every-channel shifts) and its contacts.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_context
@fail_cleanly
def staffed_cmd(ctx: click.Context, interval: str, start: str | None, end: str | None, channel: str | None,
                fmt: str) -> None:
    """Staffed agents (available agent-time / interval), handle seconds worked and occupancy per
    interval, from the imported shifts and the contacts' handle times."""
    from cxmetrics.workforce._shifts import staffed

    with _open(ctx) as ws:
        table = staffed(ws, interval=interval, start=start, end=end, channel=channel)
    if fmt == "table":
        if table.num_rows == 0:
            click.echo(f"no shifts serve channel {channel} (neither its own nor every-channel shifts)." if channel
                       else "no shifts in the workspace: import them with `cxmetrics import shifts FILE`, or make "
                            "them from patterns with `cxmetrics shifts expand PATTERNS ... --import`.")
            return
        table = pa.table({
            "channel": [c or "all" for c in table["channel"].to_pylist()],
            "interval_start": [t.strftime("%Y-%m-%d %H:%M") for t in table["interval_start"].to_pylist()],
            "staffed": [f"{v:.2f}" for v in table["staffed"].to_pylist()],
            "handle": [f"{v:,.0f} s" for v in table["handle_s"].to_pylist()],
            "occupancy": ["-" if v is None else f"{v:.1%}" for v in table["occupancy"].to_pylist()],
        })
    click.echo(render(table, fmt))
