"""`cxmetrics surveys list | show | add | remove | check`: the definitions in surveys.toml.

They read and write only the workspace's `surveys.toml` (through `_edit`, which keeps the
file's comments and order and refuses an edit the configuration would not load), so they
work before any import and while a server runs: the server reads the file again when it
changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from cxmetrics._clitools import fail_cleanly, workspace_path
from cxmetrics.surveys._config import CONFIG_FILE, LANGUAGES, SCALES, Survey, SurveysConfig, SurveysConfigError, Trigger
from cxmetrics.surveys._edit import definition_dict, put_survey, remove_survey


def duration_text(seconds: float | None) -> str:
    """7200 -> '2h', 90 -> '1m30s', None -> '-' (the way surveys.toml writes durations).

    >>> duration_text(7200), duration_text(90), duration_text(86400 * 7), duration_text(0)
    ('2h', '1m30s', '7d', '0s')
    """
    if seconds is None:
        return "-"
    left, out = int(round(seconds)), ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            out += f"{left // size}{unit}"
            left %= size
    return out or "0s"


def _pairs(items: tuple[str, ...], option: str) -> dict[str, list[str]]:
    """`--where channel=email,chat --where team=Billing` -> {channel: [email, chat], team: [Billing]}."""
    out: dict[str, list[str]] = {}
    for item in items:
        dim, sep, values = item.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not dim.strip() or not vals:
            raise SurveysConfigError(f"{option} '{item}' is not NAME=VALUE[,VALUE...], "
                                     f"e.g. {option} channel=email,chat.")
        out.setdefault(dim.strip(), []).extend(vals)
    return out


def _when(s: Survey) -> str:
    if s.trigger is Trigger.SOLVED:
        return f"{duration_text(s.delay_s)} after a ticket is solved"
    if s.trigger is Trigger.RELATIONSHIP:
        return f"every {duration_text(s.every_s)} to each customer"
    if s.trigger is Trigger.ON_DEMAND:
        return "when asked (cxmetrics surveys send, a link, the API)"
    return "in the help desk's own solve e-mail (the embed snippet)"


def _to_whom(s: Survey) -> str:
    conds = [f"{k} in {', '.join(v)}" for k, v in (s.where or s.segment).items()]
    parts = [("tickets" if s.trigger is not Trigger.RELATIONSHIP else "customers")
             + (f" where {' and '.join(conds)}" if conds else "")]
    if s.source:
        parts.append(f"of source {s.source}")
    if s.trigger is Trigger.SOLVED and not s.include_bot_solved:
        parts.append("not solved by a bot alone")
    return ", ".join(parts)


@click.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
@fail_cleanly
def list_cmd(ctx: click.Context, fmt: str) -> None:
    """List the survey definitions of surveys.toml, in the file's order."""
    path = workspace_path(ctx)
    cfg = SurveysConfig.load(path)
    if fmt == "json":
        click.echo(json.dumps({"file": str(path / CONFIG_FILE), "surveys": [definition_dict(s) for s in cfg.surveys]},
                              indent=2))
        return
    if not cfg.surveys:
        click.echo(f"no surveys defined ({path / CONFIG_FILE} has none): add one with "
                   "`cxmetrics surveys add csat --kind csat --delay 1h`")
        return
    for s in cfg.surveys:
        state = "" if s.enabled else " (disabled)"
        click.echo(f"{s.name}{state}: {s.kind} {s.scale}, {_when(s)}; {_to_whom(s)}"
                   + (f"; reminder after {duration_text(s.reminder_s)}" if s.reminder_s else ""))


@click.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.pass_context
@fail_cleanly
def show_cmd(ctx: click.Context, name: str, fmt: str) -> None:
    """Show one survey definition, defaults filled in."""
    s = SurveysConfig.load(workspace_path(ctx)).survey(name)
    d = definition_dict(s)
    if fmt == "json":
        click.echo(json.dumps(d, indent=2))
        return
    for key in ("delay", "reminder", "every"):
        d[key] = duration_text(d[key]) if d[key] is not None else None
    if s.trigger is not Trigger.SOLVED:
        d["delay"] = None  # only a solve trigger waits a delay
    for key, value in d.items():
        if value in (None, {}, []):
            continue
        if isinstance(value, dict):
            value = "; ".join(f"{k} = {', '.join(v) if isinstance(v, list) else v}" for k, v in value.items())
        click.echo(f"{key:<19}{value}")
    click.echo(f"{'sent':<19}{_when(s)}; {_to_whom(s)}")


@click.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(sorted(SCALES)), help="csat, ces, nps or esat.")
@click.option("--scale", help="The kind's scale: csat 1-5 (default) or good/bad; ces 1-7; nps 0-10; esat 1-5.")
@click.option("--trigger", type=click.Choice([t.value for t in Trigger]), default=None,
              help="solved (default): after a solve; relationship: every --every to customers; on_demand; embed.")
@click.option("--delay", help="After the solve, e.g. 1h, 30m, 2d (default 1h).")
@click.option("--reminder", help="One reminder this long after the invite, e.g. 3d (default: none).")
@click.option("--every", help="Relationship surveys: how often per customer, e.g. 90d.")
@click.option("--where", multiple=True, metavar="DIM=V[,V]",
              help="Only tickets with these values, e.g. --where channel=email,chat (repeat for more dimensions).")
@click.option("--segment", multiple=True, metavar="COL=V[,V]",
              help="Relationship surveys: only customers with these values (tier, region, segment).")
@click.option("--question", help="The question, in --language (default: the shipped wording, translated).")
@click.option("--comment-prompt", help="The follow-up comment prompt, in --language.")
@click.option("--language", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="The language of --question and --comment-prompt.")
@click.option("--source", help="Only tickets of this source (a workspace with several help desks).")
@click.option("--include-bot-solved", is_flag=True, help="Also survey tickets a bot solved alone.")
@click.option("--disabled", is_flag=True, help="Define it, but send nothing yet.")
@click.option("--replace", is_flag=True, help="Replace the definition of the same name (else that is an error).")
@click.pass_context
@fail_cleanly
def add_cmd(ctx: click.Context, name: str, kind: str, scale: str | None, trigger: str | None, delay: str | None,
            reminder: str | None, every: str | None, where: tuple[str, ...], segment: tuple[str, ...],
            question: str | None, comment_prompt: str | None, language: str, source: str | None,
            include_bot_solved: bool, disabled: bool, replace: bool) -> None:
    """Add the survey NAME to surveys.toml (checked before anything is written)."""
    path = workspace_path(ctx)
    exists = any(s.name == name for s in SurveysConfig.load(path).surveys)
    if exists and not replace:
        raise SurveysConfigError(f"survey '{name}' is already defined in {CONFIG_FILE}: add --replace to replace "
                                 f"it, or choose another name.")
    definition: dict[str, Any] = {
        "name": name, "kind": kind, "scale": scale, "trigger": trigger, "delay": delay, "reminder": reminder,
        "every": every, "where": _pairs(where, "--where"), "segment": _pairs(segment, "--segment"),
        "question": {language: question} if question else None,
        "comment_prompt": {language: comment_prompt} if comment_prompt else None,
        "source": source, "include_bot_solved": True if include_bot_solved else None,
        "enabled": False if disabled else None,
    }
    s = put_survey(path, definition)
    verb = "replaced" if exists else "added"
    click.echo(f"{verb} {s.name} in {path / CONFIG_FILE}: {s.kind} {s.scale}, {_when(s)}; {_to_whom(s)}"
               + ("" if s.enabled else " (disabled: nothing is sent until enabled)"))


@click.command("remove")
@click.argument("name")
@click.pass_context
@fail_cleanly
def remove_cmd(ctx: click.Context, name: str) -> None:
    """Remove the survey NAME from surveys.toml (what it sent and collected stays)."""
    path = workspace_path(ctx)
    cfg = remove_survey(path, name)
    left = ", ".join(s.name for s in cfg.surveys) or "none"
    click.echo(f"removed {name} from {path / CONFIG_FILE}; surveys left: {left}")


def check_config(workspace: str | os.PathLike[str], *, connect: bool = False) -> tuple[list[str], list[str]]:
    """What surveys.toml would do, and what is wrong with it: (lines, problems). The file
    must load; the logo must be a small image; the e-mail settings must name a server and
    their login variables must be set; with `connect`, the SMTP server must answer."""
    path = Path(workspace)
    cfg = SurveysConfig.load(path)  # a malformed file raises, with the config's message
    lines, problems = [f"{path / CONFIG_FILE}: {len(cfg.surveys)} survey(s), "
                       f"{sum(s.enabled for s in cfg.surveys)} enabled"], []
    try:
        logo = cfg.logo_path(path)
        lines.append(f"branding: {cfg.branding.name}, colour {cfg.branding.colour}, "
                     + (f"logo {logo.name} ({logo.stat().st_size:,} bytes)" if logo else "no logo"))
    except SurveysConfigError as exc:
        problems.append(str(exc))
    smtp = None
    emailed = [s for s in cfg.surveys if s.enabled and s.trigger is not Trigger.EMBED]
    if cfg.email is None:
        if emailed:
            problems.append(f"{CONFIG_FILE}: no [email] table, so {', '.join(s.name for s in emailed)} cannot be "
                            "e-mailed: add [email] with destination (an alerts.toml e-mail destination) or host "
                            "and from (docs/surveys.md).")
    else:
        try:
            smtp = cfg.email.smtp(path)
            lines.append(f"e-mail: {smtp.host}:{smtp.effective_port} ({smtp.security.value}), "
                         f"from {smtp.from_}")
            for var in (smtp.username_env, smtp.password_env):
                if var and not os.environ.get(var):
                    problems.append(f"{CONFIG_FILE}: [email] reads the SMTP login from the environment variable "
                                    f"{var}, which is not set here: set it where the server runs.")
        except SurveysConfigError as exc:
            problems.append(str(exc))
        except ValueError as exc:  # the server's settings, checked as the alerts check them
            problems.append(f"{CONFIG_FILE}: [email]: {_first_error(exc)}")
    if connect and smtp is not None:
        problem = _try_smtp(smtp)
        lines.append("SMTP server answered" if problem is None else "SMTP server did not answer")
        if problem is not None:
            problems.append(problem)
    lines.append(f"links: {cfg.base_url + '/s/...' if cfg.base_url else 'the running server address /s/...'}; "
                 f"they expire after {duration_text(cfg.token_ttl_s)}, answers can be changed for "
                 f"{duration_text(cfg.edit_window_s)}; at most one survey per customer per "
                 f"{duration_text(cfg.throttle_s)}")
    for s in cfg.surveys:
        how = ("in the help desk's e-mail" if s.trigger is Trigger.EMBED
               else f"by e-mail via {smtp.host}" if smtp is not None else "by e-mail (no [email] yet)")
        state = "" if s.enabled else " [disabled: sends nothing]"
        lines.append(f"- {s.name}{state}: {s.kind} {s.scale}, {_when(s)}, {how}; {_to_whom(s)}"
                     + (f"; one reminder after {duration_text(s.reminder_s)}" if s.reminder_s else ""))
    return lines, problems


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return str(errors()[0]["msg"]).removeprefix("Value error, ")
    return str(exc)


def _try_smtp(dest: Any) -> str | None:
    """None when the SMTP server answers EHLO (and STARTTLS when set); else what went wrong.
    No login and no message: a check sends nothing."""
    import smtplib
    import ssl

    from cxmetrics.alerts._config import Security

    port = dest.effective_port
    try:
        context = ssl.create_default_context(cafile=dest.ca_file)
        if dest.security is Security.SSL:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(dest.host, port, timeout=10, context=context)
        else:
            smtp = smtplib.SMTP(dest.host, port, timeout=10)
        with smtp:
            smtp.ehlo()
            if dest.security is Security.STARTTLS:
                smtp.starttls(context=context)
    except (OSError, smtplib.SMTPException) as exc:
        return f"the SMTP server {dest.host}:{port} did not answer ({type(exc).__name__}: {exc}); check host, port " \
               "and security."
    return None


@click.command("check")
@click.option("--connect", is_flag=True, help="Also connect to the SMTP server (EHLO, and STARTTLS when set).")
@click.pass_context
@fail_cleanly
def check_cmd(ctx: click.Context, connect: bool) -> None:
    """Check surveys.toml, its logo and e-mail settings, and say what would be sent where."""
    lines, problems = check_config(workspace_path(ctx), connect=connect)
    for line in lines:
        click.echo(line)
    if problems:
        raise SurveysConfigError(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
    click.echo("ok")


COMMANDS: list[click.Command] = [list_cmd, show_cmd, add_cmd, remove_cmd, check_cmd]
