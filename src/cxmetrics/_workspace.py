"""The workspace: a folder with one DuckDB file and its settings.

>>> import tempfile, cxmetrics
>>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
...     ws.counts()["tickets"]
0
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import date, datetime
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from cxmetrics._filemodes import make_private_dir, tighten
from cxmetrics.errors import CxError, ImportFileError, StoreError, UnknownNameError, UserError
from cxmetrics.ingest import ImportSummary, Mapping, kind as import_kind
from cxmetrics.ingest._kinds import canonical as canonical_kind
from cxmetrics.ingest import _pipeline
from cxmetrics.ingest._readers import RelationSource, detect_format, open_source
from cxmetrics.metrics._benchmark import attach as attach_benchmarks
from cxmetrics.metrics._compare import around, compare
from cxmetrics.metrics._compile import check_request
from cxmetrics.metrics._query import MetricTable, run_metrics
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._scorecard import scorecard
from cxmetrics.metrics._size import check_size
from cxmetrics.metrics._topics import top_topics
from cxmetrics.model import TABLES
from cxmetrics.settings import Settings
from cxmetrics.store import _migrations
from cxmetrics.store._implied import ensure_views

DEFAULT_PATH = Path("cxmetrics-workspace")
DB_FILE = "cxmetrics.duckdb"
SETTINGS_FILE = "settings.toml"


@contextmanager
def translate_errors() -> Iterator[None]:
    """Engine errors become StoreError at the boundary, with the engine's words."""
    try:
        yield
    except CxError:
        raise
    except duckdb.Error as exc:
        text = str(exc).strip()
        if "lock" in text.lower() and "conflicting" in text.lower():
            raise StoreError(
                "the workspace is open in another process (a running `cxmetrics serve` or import?); "
                f"close it and try again. Engine: {text.splitlines()[0]}"
            ) from exc
        raise StoreError(text.splitlines()[0] if text else type(exc).__name__) from exc


class Workspace:
    """An open workspace. Use `cxmetrics.open(path)`; close it (or use `with`)."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_PATH, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"{self.path} is a file, not a workspace folder.")
        if read_only and not (self.path / DB_FILE).exists():
            raise StoreError(f"{self.path} holds no workspace; create one with `cxmetrics demo` or an import.")
        if not read_only:  # owner-only (0700 folder, 0600 files): it holds data and key hashes
            make_private_dir(self.path)
        settings_path = self.path / SETTINGS_FILE
        self.settings = Settings.load(settings_path)
        if not settings_path.exists() and not read_only:
            self.settings.save(settings_path)
        # writes (imports, facts refreshes) from cursors of one workspace take turns
        self._write_lock = threading.RLock()
        # a read-only workspace cannot refresh its facts: it answers from them as they are
        self.auto_refresh = not read_only
        with translate_errors():
            self.con = duckdb.connect(str(self.path / DB_FILE), read_only=read_only)
            self._configure()
            if not read_only:
                _migrations.migrate(self.con)
                ensure_views(self.con)  # the events and surveys views fit the tickets stored
        self._owns_files = not read_only  # a cursor (made without __init__) leaves modes to its workspace
        if not read_only:
            tighten(self.path)  # a workspace made before 0009 was 0755/0644

    def cursor(self, *, auto_refresh: bool = True) -> Workspace:
        """This workspace on a connection of its own to the same database, for another
        thread (a server handles each request on one). Writes from the cursors of one
        workspace take turns; reads run side by side and see committed data. With
        `auto_refresh=False`, queries do not bring the facts up to date first (the
        server refreshes once after each write instead). Close it when done.

        >>> import tempfile, cxmetrics
        >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws, ws.cursor() as cur:
        ...     cur.counts()["events"]
        0
        """
        view = object.__new__(Workspace)
        view.path, view.settings = self.path, self.settings
        view._write_lock, view.auto_refresh = self._write_lock, auto_refresh
        with translate_errors():
            view.con = self.con.cursor()
            view._configure_session()
        return view

    def _configure_session(self) -> None:
        """Settings that belong to one connection (a cursor needs them again)."""
        self.con.execute(f"SET TimeZone = '{self.settings.timezone}'")

    def _configure(self) -> None:
        s = self.settings
        self._configure_session()
        self.con.execute(f"SET memory_limit = '{s.memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self.path / 'tmp'}'")
        if s.threads != "0":
            self.con.execute(f"SET threads = {int(s.threads)}")
        self.con.execute("SET preserve_insertion_order = true")
        # the engine tracks progress for our own bar, which draws on terminals only
        self.con.execute("SET enable_progress_bar = true")
        self.con.execute("SET enable_progress_bar_print = false")

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        self.con.close()
        if getattr(self, "_owns_files", False) and self.path.is_dir():  # made while open (tmp/...): owner-only too
            tighten(self.path)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace {self.path}>"

    @property
    def schema_version(self) -> int:
        return _migrations.current_version(self.con)

    def configure(self, **changes: str) -> Settings:
        """Change settings (timezone, currency, memory_limit, threads) and save them."""
        self.settings = self.settings.with_(**changes)
        self.settings.save(self.path / SETTINGS_FILE)
        with translate_errors():
            self._configure()
        return self.settings

    # -- imports ---------------------------------------------------------------------

    def import_file(
        self,
        kind: str,
        file: str | os.PathLike[str],
        *,
        mapping: str | os.PathLike[str] | Mapping | None = None,
        source: str | None = None,
        file_format: str | None = None,
        progress: bool = False,
        label: str | None = None,
    ) -> ImportSummary:
        """Import a CSV, JSON Lines or Parquet file as `kind` (tickets, events, surveys...).

        Returns the summary; bad rows go to the quarantine, never into the tables. `label`
        names the file in the import log (default: its absolute path); importing the same
        label again replaces what the quarantine held for it."""
        spec = import_kind(kind)
        path = Path(file)
        if not path.is_file():
            raise ImportFileError(f"{path} does not exist or is not a file.")
        if path.stat().st_size == 0:
            raise ImportFileError(f"{path} is empty: there is not even a header row.")
        m = mapping if isinstance(mapping, Mapping) else Mapping() if mapping is None else Mapping.load(mapping)
        fmt = detect_format(path, m, file_format)
        src = open_source(path, m, fmt)
        with self._write_lock, translate_errors():
            return _pipeline.run(
                self.con, spec, src, file_label=label or str(path.resolve()), path=path, mapping=m,
                default_source=source, timezone_name=self.settings.timezone, currency=self.settings.currency,
                show_progress=progress, tmp_dir=self._tmp_dir(), limits=_pipeline.ReadLimits.from_settings(self.settings),
            )

    def import_table(
        self, kind: str, table: pa.Table, *, source: str | None = None, label: str = "<table>",
        mapping: Mapping | None = None, canonical: bool = False,
    ) -> ImportSummary:
        """Import rows already in memory (an Arrow table) through the same checks.

        With `canonical=True`, `kind` names a canonical table and the rows are in its
        shape (see `cxmetrics formats`): they are checked and merged, nothing implied."""
        spec = canonical_kind(kind) if canonical else import_kind(kind)
        name = "_cx_arrow_source"
        with self._write_lock, translate_errors():
            self.con.register(name, table)
            try:
                return _pipeline.run(
                    self.con, spec, RelationSource(name, getattr(table, "num_rows", None)), file_label=label, path=None,
                    mapping=mapping or Mapping(), default_source=source,
                    timezone_name=self.settings.timezone, currency=self.settings.currency,
                )
            finally:
                self.con.unregister(name)

    def _tmp_dir(self) -> Path:
        path = self.path / "tmp"
        path.mkdir(exist_ok=True)
        return path

    # -- metrics ---------------------------------------------------------------------

    def refresh(self, full: bool = False, *, text: bool = True) -> int:
        """Bring ticket_facts up to date with the events (only touched tickets unless
        `full`), and the text facts of new tickets once the text layer is on (docs/text.md);
        returns how many tickets' facts were refreshed. With `text=False`, the text facts
        are left behind until a refresh with `text=True` (the server does that a moment
        later, off the read-after-write path)."""
        from cxmetrics.calendar import SCHEDULES_FILE, ScheduleSet
        from cxmetrics.facts import refresh_facts

        from cxmetrics.text._store import refresh_if_enabled

        schedules = ScheduleSet.load(self.path / SCHEDULES_FILE)
        with self._write_lock, translate_errors():
            n = refresh_facts(self.con, full=full, schedules=schedules)
            if text:
                refresh_if_enabled(self)  # once the text layer is on, new tickets' text facts too
            return n

    def _refresh_text_part(self) -> bool:
        """The text facts of the next few imports behind (text._store.refresh_part); returns
        whether more remain. For the server's refresher, which lets writes in between."""
        from cxmetrics.text._store import refresh_part

        return refresh_part(self)

    def _auto_refresh(self) -> None:
        if self.auto_refresh:
            self.refresh()

    def metrics(
        self,
        metrics: list[str] | str,
        *,
        by: list[str] | str | None = None,
        grain: str | None = None,
        where: dict[str, object] | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        explain: bool = False,
        benchmark: str | None = None,
        max_cells: int | None | Literal["setting"] = "setting",
    ) -> MetricTable:
        """Compute metrics, grouped `by` dimensions and bucketed by `grain`, over rows
        whose time falls in [start, end); one tidy table: metric, groups, period, value,
        n, ci_low, ci_high, flags, unit. With explain=True, only `.sql` is filled. With
        `benchmark` (an industry such as ecommerce, a channel, or `channel` for each row's
        own), the target that applies (targets.toml) and whether it was met, benchmark,
        its statistic, source and kind of source, and the gap are added.

        An answer estimated past `max_cells` cells (groups x periods x metrics; default:
        the `max_answer_cells` setting, None for no limit) is refused before any query
        runs with AnswerTooLargeError, which says how to narrow the request."""
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        dims = [by] if isinstance(by, str) else list(by or [])
        if explain:
            with translate_errors():
                return run_metrics(self.con, names, by=dims, grain=grain, where=where, start=start, end=end,
                                   explain=True)
        # every name and value is checked before any work is done
        refs = [registry().resolve(n) for n in names]
        check_request(refs, by=dims, grain=grain, where=dict(where or {}), start=start, end=end)
        limit = int(self.settings.max_answer_cells) if max_cells == "setting" else max_cells
        with translate_errors():
            check_size(self.con, refs, by=dims, grain=grain, where=dict(where or {}), start=start, end=end,
                       max_cells=limit)
        self._auto_refresh()
        if self.auto_refresh and any(r.spec.source == "sla_targets" for r in refs):
            from cxmetrics.sla import refresh_sla

            refresh_sla(self)
        with translate_errors():
            result = run_metrics(self.con, names, by=dims, grain=grain, where=where, start=start, end=end)
        if benchmark is not None:
            from cxmetrics.targets import load_targets  # the workspace's own targets.toml

            result = MetricTable(attach_benchmarks(result.table, benchmark, load_targets(self.path), where), result.sql)
        return result

    def compare(
        self,
        metrics: list[str] | str,
        a: tuple[object, object] | None = None,
        b: tuple[object, object] | None = None,
        *,
        annotation: str | None = None,
        days: int = 28,
        by: list[str] | str | None = None,
        where: dict[str, object] | None = None,
    ) -> pa.Table:
        """Test each metric's change from period `a` to period `b` (each (start, end),
        end excluded), or over the `days` before and after an annotation (id or label).
        One row per metric (and group): both values and n, the change with its 95%
        interval, the p-value, whether it is significant at 5%, and the test used."""
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        dims = [by] if isinstance(by, str) else list(by or [])
        if annotation is not None:
            if a is not None or b is not None:
                raise UserError("give either two periods or an annotation, not both.")
            a, b = around(self.annotation_time(annotation), days)
        if a is None or b is None:
            raise UserError("compare needs two periods (a and b) or an annotation.")
        self._auto_refresh()
        with translate_errors():
            return compare(self.con, names, a, b, by=dims, where=where)  # type: ignore[arg-type]

    def scorecard(self, *, start: date | datetime | str | None = None, end: date | datetime | str | None = None,
                  where: dict[str, object] | None = None, min_n: int | None = None,
                  rank_by: str = "csat", hours: str = "calendar") -> pa.Table:
        """Agents and bots on the same KPIs (solved, first touch, FRT, AHT, FCR, reopen
        rate, CSAT), ranked by the lower 95% bound of `rank_by` (a count by its value) among
        those with at least `min_n` observations (None: chosen from the period's volume;
        the table's metadata says which). `hours="business"`: first touch and FRT in
        business hours (their `_bh` twins, under the same column names)."""
        self._auto_refresh()
        with translate_errors():
            return scorecard(self.con, start=start, end=end, where=where, min_n=min_n, rank_by=rank_by, hours=hours)

    def topics(self, *, start: date | datetime | str, end: date | datetime | str,
               where: dict[str, object] | None = None, limit: int = 10, discovered: bool = False) -> pa.Table:
        """Top topics by volume in [start, end): share, change against the period of the
        same length before (tested), each topic's CSAT and median FRT, and whether its share
        rose significantly (`emerging`). `discovered`: the topics `cxmetrics topics discover`
        found in the texts (the discovered_topic dimension) instead of the help desk's tags."""
        self._auto_refresh()
        with translate_errors():
            return top_topics(self.con, start=start, end=end, where=where, limit=limit,
                              dimension="discovered_topic" if discovered else "topic")

    def annotation_time(self, name: str) -> datetime:
        """When an annotation (by id, or by label, case-blind) happened."""
        found = self.sql(
            "SELECT annotation_id, label, ts FROM annotations WHERE annotation_id = ? OR lower(label) = lower(?) "
            "ORDER BY ts", [name, name]
        ).to_pylist()
        if not found:
            known = [r["annotation_id"] for r in self.sql("SELECT annotation_id FROM annotations").to_pylist()]
            raise UnknownNameError("annotation", name, known)
        return found[0]["ts"]

    # -- reading ---------------------------------------------------------------------

    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run a read query against the store and return Arrow."""
        with translate_errors():
            return self.con.sql(query, params=params).to_arrow_table()

    def table(self, name: str) -> pa.Table:
        """A canonical table without its bookkeeping columns."""
        if name not in TABLES and name not in ("quarantine", "imports"):
            raise UnknownNameError("table", name, [*TABLES, "quarantine", "imports"])
        extra = " EXCLUDE (_hash, _import_id)" if name in TABLES else ""
        return self.sql(f"SELECT *{extra} FROM {name}")

    def counts(self) -> dict[str, int]:
        """Rows per canonical table (plus quarantine)."""
        names = [*TABLES, "quarantine"]
        query = " UNION ALL ".join(f"SELECT '{n}', count(*) FROM {n}" for n in names)
        with translate_errors():
            return dict(self.con.execute(query).fetchall())

    def quarantine(self, import_id: str | None = None) -> pa.Table:
        """Rejected rows: import, kind, file, line, raw row and the reason."""
        where = "WHERE import_id = ?" if import_id else ""
        return self.sql(
            f"SELECT import_id, kind, file, line, reason, raw, quarantined_at FROM quarantine {where} "
            "ORDER BY quarantined_at, import_id, line",
            [import_id] if import_id else None,
        )

    def imports(self) -> pa.Table:
        """The import log, newest first."""
        return self.sql("SELECT * FROM imports ORDER BY started_at DESC")


def open(path: str | os.PathLike[str] = DEFAULT_PATH, *, read_only: bool = False,  # noqa: A001
         create: bool = False) -> Workspace:
    """Open (and upgrade if needed) the workspace at `path`. A folder that holds no
    workspace yet is refused unless `create=True`: a mistyped path must not quietly
    become a new, empty workspace.

    >>> import tempfile, cxmetrics
    >>> folder = tempfile.mkdtemp()
    >>> cxmetrics.open(folder + "/typo")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmetrics.errors.StoreError: no workspace at .../typo: check the path. To make one there, ...
    >>> cxmetrics.open(folder, create=True).close()
    """
    if not create and not read_only and not (Path(path) / DB_FILE).exists():
        raise StoreError(f"no workspace at {path}: check the path. To make one there, open it with "
                         "cxmetrics.open(path, create=True), or run `cxmetrics demo` or `cxmetrics import`.")
    from cxmetrics._remote import routed

    # while a server holds the workspace (DuckDB: one writing process), work through it
    served = routed(path, read_only=read_only)
    if served is not None:
        return served  # type: ignore[no-any-return]  # a cursor of the server's, or a RemoteWorkspace
    return Workspace(path, read_only=read_only)
