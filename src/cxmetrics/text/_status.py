"""What the text layer of a workspace holds (`cxmetrics text status`, docs/text.md): whether it
is on, when it was last refreshed, how many tickets changed since, the models in use and the
rows of each text table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cxmetrics.store._reflected import new_rows
from cxmetrics.text._store import active_model, enabled

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

TABLES = ("ticket_text", "message_sentiment", "reply_signals", "resolution_answers", "text_topics", "text_models")
KINDS = ("sentiment", "topics")


@dataclass(frozen=True)
class ActiveModel:
    """The model of a kind in use: `model_id` 'default' is the shipped sentiment model, None no model."""

    kind: str
    model_id: str | None
    created_at: datetime | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TextStatus:
    """`on`: the text layer is on (every refresh keeps the text facts up to date); `pending`:
    tickets changed since the last text refresh (the next query or `text refresh` scores them)."""

    on: bool
    last_refresh: datetime | None
    pending: int
    models: list[ActiveModel]
    rows: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """Plain values (ISO times) for JSON."""
        return {
            "on": self.on, "last_refresh": self.last_refresh.isoformat() if self.last_refresh else None,
            "pending_tickets": self.pending,
            "models": [{"kind": m.kind, "model_id": m.model_id,
                        "created_at": m.created_at.isoformat() if m.created_at else None, "params": m.params}
                       for m in self.models],
            "rows": self.rows,
        }


def status(ws: Workspace) -> TextStatus:
    """The text layer's state in `ws` (reads only)."""
    from cxmetrics._workspace import translate_errors

    con = ws.con
    with translate_errors():
        on = enabled(con)
        # text_state dates only the imports first taken in; a full refresh (a new model) since
        # shows in the rows it rewrote
        last = con.execute("SELECT greatest((SELECT max(refreshed_at) FROM text_state), "
                           "(SELECT max(updated_at) FROM ticket_text))").fetchall()[0][0]
        pending = 0
        if on:  # tickets with a row from an import the text facts do not reflect yet
            new = new_rows(con, "text_state")
            pending = con.execute(f"""SELECT count(*) FROM (
                SELECT source, ticket_id FROM events WHERE ticket_id IS NOT NULL AND {new}
                UNION SELECT source, ticket_id FROM tickets WHERE {new})""").fetchall()[0][0]
        models = []
        for kind in KINDS:
            stored = active_model(con, kind)
            if stored is None:
                models.append(ActiveModel(kind, "default" if kind == "sentiment" else None))
                continue
            created = con.execute("SELECT created_at FROM text_models WHERE model_id = ?", [stored.model_id]).fetchall()
            models.append(ActiveModel(kind, stored.model_id, created[0][0], stored.params))
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
    return TextStatus(on, last, int(pending), models, rows)
