"""`cxmetrics sync VENDOR --config [--from FOLDER] [--write]`: the command-line side of
connectors/config.py (the command itself is `sync_cmd` in cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cxmetrics.connectors.config import carry_over, report
from cxmetrics.sla import POLICY_FILE


def run_config(folder: Path, vendor: str, *, source: Path | None, write: bool, fmt: str) -> None:
    """Show (and with `write`, write) the schedules.toml and sla.toml VENDOR's
    configuration makes; after writing into a workspace with data, bring business time
    and SLA clocks up to date, as `cxmetrics schedule set` does."""
    result = carry_over(folder, vendor, source=source, write=write)
    click.echo(json.dumps(result.to_dict()) if fmt == "json" else report(result))
    if not any(f.written for f in result.files) or not (folder / "cxmetrics.duckdb").exists():
        return
    import cxmetrics
    from cxmetrics.facts import last_business_refresh

    with cxmetrics.open(folder) as ws:
        ws.refresh()
        done = last_business_refresh(ws.con)
        if done is not None and fmt != "json":
            click.echo(f"business time recomputed for {done.tickets:,} tickets; changed for {done.changed:,}")
        if (folder / POLICY_FILE).exists():
            from cxmetrics.sla import refresh_sla

            recomputed = refresh_sla(ws)
            if fmt != "json":
                click.echo(f"SLA clocks recomputed for {recomputed:,} tickets")
