"""`cxmetrics forecast`: contacts expected per interval and channel, or a backtest of the
forecast on the last weeks (docs/workforce.md, "Forecast")."""

from __future__ import annotations

import json

import click
import pyarrow as pa

from cxmetrics._clitools import fail_cleanly, open_workspace
from cxmetrics._output import FORMATS, render

_SHORT = {"time of day": "one time-of-day profile for every day",
          "day type + time of day": "a weekday effect times one time-of-day profile"}


@click.command("forecast")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeat for more); default: every one.")
@click.option("--interval", default="30m", show_default=True, help="Interval length: 15m, 30m, 1h... or 1d.")
@click.option("--horizon", default="14d", show_default=True, help="How far ahead: 14d, 6w, 48h.")
@click.option("--from", "start", default=None,
              help="First interval forecast (a date or time); only history before it is used. Default: the end "
                   "of history (with --backtest: the last --weeks whole weeks).")
@click.option("--backtest", is_flag=True, help="Forecast the last --weeks of history from the weeks before and "
                                               "print MASE against the seasonal-naive forecast and the coverage.")
@click.option("--weeks", type=click.IntRange(min=1), default=1, show_default=True, help="Weeks the backtest forecasts.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.pass_context
@fail_cleanly
def forecast_cmd(ctx: click.Context, channels: tuple[str, ...], interval: str, horizon: str, start: str | None,
                 backtest: bool, weeks: int, fmt: str) -> None:
    """Contacts expected per interval and channel with 80% and 95% prediction intervals
    (weekly and daily seasonality, holidays of the schedules as their own day type), or with
    --backtest how that forecast did on the last weeks (needs cxmetrics[workforce])."""
    from cxmetrics.workforce import _forecast as fc

    channel = list(channels) or None
    with open_workspace(ctx) as ws:
        if not backtest:
            table = fc.forecast(ws, channel=channel, interval=interval, horizon=horizon, start=start)
            click.echo(render(table, fmt))
            for name, model in fc.fitted_models(table).items():  # a short history: say what was used
                if model["structure"] in _SHORT:
                    how = _SHORT[model["structure"]]
                    click.echo(f"{name}: {model['days']:g} days of history, so forecast by {how} "
                               "(a weekday effect needs 7 days, a profile per day type 14).", err=True)
            return
        found = fc.backtest(ws, channel=channel, interval=interval, weeks=weeks, start=start)
    if fmt == "json":
        click.echo(json.dumps(found.as_dict(), indent=2))
        return
    rows = [*found.channels, {"channel": "all", "n": found.n, "mase": found.mase, "coverage80": found.coverage80,
                              "coverage95": found.coverage95, "mae": found.mae, "mae_naive": found.mae_naive}]
    table = pa.Table.from_pylist(rows)
    if fmt == "table":
        click.echo(f"Backtest at {interval}: trained on [{found.train_start:%Y-%m-%d %H:%M}, "
                   f"{found.train_end:%Y-%m-%d %H:%M}), forecast [{found.train_end:%Y-%m-%d %H:%M}, "
                   f"{found.test_end:%Y-%m-%d %H:%M}). MASE < 1: better than the same interval a week earlier.")
    click.echo(render(table, fmt))
