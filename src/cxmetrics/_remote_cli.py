"""The CLI while a server of another process holds the workspace: the root command group
(`RoutedGroup`) sends the command line to the server (`POST /_local/cli`), which runs it
on its workspace, and prints what it printed and exits with its exit code. Paths in the
command line are made absolute first, so the server reads the files this shell names.

Run here instead: help, commands that need no workspace (`catalogue`, `formats`), commands
on Spark (`--engine spark`: they read --tables or --catalog, and of the workspace only its
settings, so the server has nothing to do for them and its process no Spark to start), and
everything when no live server holds the workspace. `serve` says where the workspace is
served already; `demo` imports through the server (as `--no-serve`); `sla watch` only
runs `--once` (the server watches the alerts itself).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cxmetrics._remote import ServerGone, holds, post, server_for
from cxmetrics.errors import CxError, StoreError, UserError

_ARGV = "cxmetrics.argv"


class RoutedGroup(click.Group):
    """The root command: while a server of another process holds the workspace, the
    command line runs in that server (see the module's docstring)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        code = forward(self, ctx)
        if code is not None:
            ctx.exit(code)
        return super().invoke(ctx)


@dataclass
class _Plan:
    argv: list[str]  # the command line with every path made absolute
    command: tuple[str, ...]  # the (sub)command names, e.g. ("sla", "watch")
    options: set[str]  # options given to the last command, by their first name
    local: bool  # help was asked, or the command does not use the workspace


_NO_WORKSPACE = {("catalogue",), ("formats",)}


def forward(group: click.Group, ctx: click.Context) -> int | None:
    """Run this command line in the server that holds the workspace; its exit code, or
    None to run it here (no server, or nothing there for it to do)."""
    workspace = Path(ctx.params.get("workspace") or "cxmetrics-workspace")
    if holds(workspace):  # this is the server (a command it runs for a client)
        return None
    if ctx.params.get("engine") == "spark":  # never the server's JVM: see the module's docstring
        return None
    info = server_for(workspace)
    if info is None:
        return None
    plan = plan_argv(group, ctx.meta.get(_ARGV, []), Path.cwd())
    if plan.local or plan.command in _NO_WORKSPACE or not plan.command:
        return None
    note = ""
    if plan.command == ("serve",):
        return _refuse(f"the workspace {workspace} is already being served at {info.url}/ (process {info.pid}): "
                       "use that server, or stop it (Ctrl+C where it runs) before starting another.")
    if plan.command == ("demo",) and "--no-serve" not in plan.options:
        plan.argv.append("--no-serve")
        note = (f"The dashboard at {info.url}/ (process {info.pid}) serves this workspace: reload it to see "
                "the demo data.")
    if plan.command == ("sla", "watch") and "--once" not in plan.options:
        return _refuse(f"the server at {info.url}/ (process {info.pid}) holds the workspace {workspace}: it watches "
                       "the SLA alerts itself when the workspace has an alerts.toml (restart it after adding one); "
                       "`cxmetrics sla watch --once` evaluates them once now through it.")
    try:
        body = {"argv": ["--workspace", str(workspace.resolve()), *plan.argv], "prog": ctx.info_name or "cxmetrics"}
        status, answer = post(info, "cli", body, workspace)  # (prog: usage lines name the command as typed)
    except ServerGone:
        return None  # a stale server.json: run here
    if status != 200:
        error = (answer or {}).get("error", {}) if isinstance(answer, dict) else {}
        return _refuse(f"the server at {info.url}/ refused to run the command ({status}): "
                       f"{error.get('message', answer)}", StoreError)
    click.echo(answer.get("stdout", ""), nl=False)
    click.echo(answer.get("stderr", ""), nl=False, err=True)
    if note:
        click.echo(note, err=True)
    return int(answer.get("exit_code", 1))


def _refuse(message: str, kind: type[CxError] = UserError) -> int:
    """Print an error as every command does (`TypeName: message`); exit code 1."""
    click.echo(f"{kind.__name__}: {message}", err=True)
    return 1


def _is_path(param: click.Parameter) -> bool:
    return isinstance(param.type, click.Path | click.File)


def _absolute(value: str, cwd: Path) -> str:
    if value == "-" or os.path.isabs(value):  # "-" is stdin/stdout
        return value
    return str(cwd / value)


def plan_argv(root: click.Group, argv: list[str], cwd: Path) -> _Plan:
    """`argv` with every path value (click.Path and click.File parameters, --workspace
    included) made absolute against `cwd`, so the server reads the same files.

    >>> from cxmetrics.cli import main
    >>> plan_argv(main, ["-w", "ws", "import", "tickets", "t.csv", "--mapping=m.toml"], Path("/home/a")).argv
    ['-w', '/home/a/ws', 'import', 'tickets', '/home/a/t.csv', '--mapping=/home/a/m.toml']
    """
    out: list[str] = []
    command: list[str] = []
    cmd: click.Command = root
    options: set[str] = set()
    local = False
    positional: list[int] = []  # indexes in `out` of the last command's arguments
    only_positional = False
    i = 0

    def params_of(c: click.Command) -> tuple[dict[str, click.Option], list[click.Argument]]:
        ps = c.get_params(click.Context(c))
        opts = {name: p for p in ps if isinstance(p, click.Option) for name in (*p.opts, *p.secondary_opts)}
        return opts, [p for p in ps if isinstance(p, click.Argument)]

    opts, args = params_of(cmd)
    while i < len(argv):
        token = argv[i]
        i += 1
        if not only_positional and token == "--":
            only_positional = True
            out.append(token)
            continue
        if not only_positional and token.startswith("-") and token != "-":
            name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
            opt = opts.get(name)
            attached = False
            if opt is None and not token.startswith("--") and len(token) > 2 and token[:2] in opts:
                name, value, attached, opt = token[:2], token[2:], True, opts[token[:2]]  # -wFOLDER
            if opt is None:
                out.append(token)  # unknown: the command will say so
                continue
            options.add(opt.opts[0])
            if opt.is_flag or opt.count:
                local = local or name in ("--help", "-h")
                out.append(token)
                continue
            fix = _is_path(opt)
            if eq or attached:
                out.append(f"{name}{'=' if eq else ''}{_absolute(value, cwd) if fix else value}")
                continue
            out.append(token)
            for value in argv[i:i + max(opt.nargs, 1)]:
                out.append(_absolute(value, cwd) if fix else value)
            i += max(opt.nargs, 1)
            continue
        if isinstance(cmd, click.Group) and not only_positional:
            sub = cmd.get_command(click.Context(cmd), token)
            out.append(token)
            if sub is None:  # unknown command: the group will say so
                out.extend(argv[i:])
                break
            command.append(token)
            cmd, options, positional = sub, set(), []
            opts, args = params_of(cmd)
            continue
        positional.append(len(out))
        out.append(token)
    # which argument each positional value belongs to (at most one takes any number)
    fixed = sum(a.nargs for a in args if a.nargs > 0)
    at = 0
    for a in args:
        n = a.nargs if a.nargs > 0 else max(len(positional) - fixed, 0)
        if _is_path(a):
            for k in positional[at:at + n]:
                out[k] = _absolute(out[k], cwd)
        at += n
    return _Plan(out, tuple(command), options, local)
