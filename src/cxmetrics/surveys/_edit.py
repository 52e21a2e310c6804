"""Editing `surveys.toml` from the CLI and the API, keeping the file a person wrote.

Each edit reads the file with tomlkit (which keeps comments, blank lines and the order of
keys and blocks), changes one thing (one `[[surveys]]` block added, replaced or removed, or
top-level keys set), validates the whole result with `SurveysConfig.from_dict` (so a bad
edit is refused with the config's own message and the file is left untouched), and writes it
atomically: a temporary file in the same folder, renamed over the old one, so a reader (the
server's scheduler reloads the file when it changes) never sees half a file.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> put_survey(folder, {"name": "csat", "kind": "csat", "delay": "2h"}).delay_s
7200.0
>>> [s.name for s in SurveysConfig.load(folder).surveys]
['csat']
>>> remove_survey(folder, "csat").surveys
()
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Array, InlineTable, Table, Whitespace

from cxmetrics.surveys._config import CONFIG_FILE, Survey, SurveysConfig, SurveysConfigError

#: the top-level keys `set_settings` may set (the surveys list has its own functions)
SETTINGS_KEYS = ("base_url", "token_ttl", "edit_window", "throttle", "interval", "default_language", "languages",
                 "branding", "email")
_HEADER = ("surveys.toml: the surveys this workspace sends (docs/surveys.md).\n"
           "Edited by `cxmetrics surveys add/remove` and the API; comments and order are kept.")
_LOCK = threading.Lock()  # one edit at a time in this process (the API's threads): read, change, write


def _path(workspace: str | os.PathLike[str]) -> Path:
    p = Path(workspace)
    return p if p.suffix == ".toml" else p / CONFIG_FILE


def _read(path: Path) -> tomlkit.TOMLDocument:
    if not path.is_file():
        doc = tomlkit.document()
        for line in _HEADER.splitlines():
            doc.add(tomlkit.comment(line))
        doc.add(tomlkit.nl())
        return doc
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except tomlkit.exceptions.ParseError as exc:
        raise SurveysConfigError(f"{path} is not valid TOML: {exc}; fix it by hand first.") from None


def _toml(value: Any) -> Any:
    """A plain value as a TOML item that stays on its key's line: tables inline, tuples as arrays."""
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        for k, v in value.items():
            table[str(k)] = _toml(v)
        return table
    if isinstance(value, list | tuple):
        array = tomlkit.array()
        array.extend(_toml(v) for v in value)
        return array
    return value


def _surveys(doc: tomlkit.TOMLDocument) -> AoT | Array:
    if "surveys" not in doc:
        doc.append("surveys", tomlkit.aot())
    items = doc["surveys"]
    if not isinstance(items, AoT | Array):
        raise SurveysConfigError(f"{CONFIG_FILE}: surveys must be a list of tables: write [[surveys]] blocks.")
    return items


def _index(items: AoT | Array | list[Any], name: str) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("name") == name:
            return i
    return None


def _write(path: Path, doc: tomlkit.TOMLDocument) -> SurveysConfig:
    """Validate `doc` as a whole, then replace the file with it (temp file + rename)."""
    cfg = SurveysConfig.from_dict(doc.unwrap(), where=str(path))  # raises with the config's message
    text = tomlkit.dumps(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return cfg


#: the order a new block's keys are written in (a person's order: what, when, to whom, words)
KEY_ORDER = ("name", "kind", "scale", "trigger", "delay", "reminder", "every", "where", "segment", "question",
             "comment_prompt", "include_bot_solved", "source", "enabled")


def _clean(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The definition without absent values (null (JSON's) and empty tables, no `where` or no
    own question, are the defaults, so the file does not fill with `where = {}`), its keys in
    KEY_ORDER (unknown keys last: the check names them)."""
    kept = {str(k): v for k, v in definition.items() if v is not None and not (isinstance(v, Mapping) and not v)}
    rank = {k: i for i, k in enumerate(KEY_ORDER)}
    return dict(sorted(kept.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def put_survey(workspace: str | os.PathLike[str], definition: Mapping[str, Any]) -> Survey:
    """Add the `[[surveys]]` block `definition` (the file's keys: name, kind, delay = "2h"...),
    or replace the block of the same name in place (its keys' comments stay where a key stays).
    SurveysConfigError, with the file untouched, when the result is not a valid surveys.toml."""
    data = _clean(definition)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise SurveysConfigError("a survey definition needs a name, such as csat_after_solve.")
    path = _path(workspace)
    with _LOCK:
        doc = _read(path)
        items = _surveys(doc)
        at = _index(items, name)
        if at is None:
            table: Table | InlineTable = tomlkit.table() if isinstance(items, AoT) else tomlkit.inline_table()
            for k, v in data.items():
                table[k] = _toml(v)
            if isinstance(items, AoT) and len(items) and not _ends_blank(items[-1]):
                items[-1].add(tomlkit.nl())  # a blank line between blocks, as a person writes them
            items.append(table)
        else:
            block = items[at]
            for k in [k for k in block if k not in data]:
                del block[k]
            for k, v in data.items():
                if k in block or not isinstance(block, Table):
                    block[k] = _toml(v)  # in place: the key keeps its line and comment
                else:
                    _add_key(block.value, k, _toml(v))
        return _write(path, doc).survey(name)


def remove_survey(workspace: str | os.PathLike[str], name: str) -> SurveysConfig:
    """Remove the `[[surveys]]` block called `name`; SurveysConfigError (naming the nearest
    name) when there is none. Returns the configuration left."""
    path = _path(workspace)
    with _LOCK:
        doc = _read(path)
        items = _surveys(doc) if "surveys" in doc else []
        at = _index(items, name)
        if at is None:
            names = [str(i.get("name")) for i in items if isinstance(i, Mapping)]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise SurveysConfigError(f"no survey '{name}' in {CONFIG_FILE}.{hint} "
                                     f"Defined: {', '.join(names) or 'none'}.")
        del items[at]
        return _write(path, doc)


def set_settings(workspace: str | os.PathLike[str], values: Mapping[str, Any]) -> SurveysConfig:
    """Set top-level keys of surveys.toml (`throttle = "14d"`, `[branding]`...); a value of
    None removes the key (back to its default). Validated as a whole before writing."""
    path = _path(workspace)
    unknown = [k for k in values if k not in SETTINGS_KEYS]
    if unknown:
        raise SurveysConfigError(f"'{unknown[0]}' is not a setting of {CONFIG_FILE}; use "
                                 f"{', '.join(SETTINGS_KEYS)} (surveys have their own commands).")
    with _LOCK:
        doc = _read(path)
        for key, value in values.items():
            if value is None:
                doc.pop(key, None)
            elif isinstance(value, Mapping):  # [branding], [email]: a table of its own
                table = tomlkit.table()
                for k, v in value.items():
                    if v is not None:
                        table[str(k)] = _toml(v)
                if key in doc:
                    doc[key] = table
                else:
                    table.add(tomlkit.nl())
                    _insert_top(doc, key, table, first=(Table, AoT))
            elif key in doc:
                doc[key] = _toml(value)
            else:
                _insert_top(doc, key, _toml(value), first=(Table, AoT))
        return _write(path, doc)


def _ends_blank(table: Any) -> bool:
    body = getattr(getattr(table, "value", None), "body", [])
    return bool(body) and body[-1][0] is None and isinstance(body[-1][1], Whitespace)


def _add_key(container: Container, key: str, item: Any) -> None:
    """Add `key` after the container's last key, above its trailing comments and blank lines
    (those introduce what follows, as a comment above the next [[surveys]] block does)."""
    keyed = [i for i, (k, _) in enumerate(container.body) if k is not None]
    at = keyed[-1] + 1 if keyed else 0
    if at >= len(container.body):
        container.append(key, item)
    else:
        container._insert_at(at, key, item)  # noqa: SLF001 - tomlkit's one way to place a key


def _insert_top(doc: tomlkit.TOMLDocument, key: str, item: Any, first: tuple[type, ...]) -> None:
    """A top-level key goes after the last top-level key (a key below a table would belong to
    that table); a new table goes above the first table, so it never lands under the comment
    that introduces the [[surveys]] blocks."""
    body = doc.body
    tables = [i for i, (k, v) in enumerate(body) if k is not None and isinstance(v, first)]
    if not tables:
        doc.append(key, item)
        return
    if isinstance(item, Table):
        doc._insert_at(tables[0], key, item)  # noqa: SLF001
        return
    keyed = [i for i, (k, _) in enumerate(body[: tables[0]]) if k is not None]
    doc._insert_at(keyed[-1] + 1 if keyed else tables[0], key, item)  # noqa: SLF001


def definition_dict(survey: Survey) -> dict[str, Any]:
    """A definition in the file's keys, durations in seconds (what `put_survey` takes back)."""
    return {"name": survey.name, "kind": survey.kind, "scale": survey.scale, "trigger": survey.trigger.value,
            "delay": survey.delay_s, "reminder": survey.reminder_s, "every": survey.every_s,
            "question": dict(survey.question), "comment_prompt": dict(survey.comment_prompt),
            "where": {k: list(v) for k, v in survey.where.items()},
            "segment": {k: list(v) for k, v in survey.segment.items()},
            "include_bot_solved": survey.include_bot_solved, "source": survey.source, "enabled": survey.enabled}


__all__ = ["SETTINGS_KEYS", "definition_dict", "put_survey", "remove_survey", "set_settings"]
