"""Help-desk connectors: a vendor's own API JSON in, canonical rows out, through the
import pipeline (see docs/connectors.md).

>>> from cxmetrics.connectors import VENDORS
>>> sorted(VENDORS)
['chatwoot', 'freshdesk', 'intercom', 'zendesk']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from cxmetrics._workspace import Workspace
from cxmetrics.connectors import chatwoot, freshdesk, intercom, zendesk
from cxmetrics.connectors._plumbing import Batch, ConnectorSummary, Page
from cxmetrics.connectors._sync import Source, SyncSummary, sync
from cxmetrics.connectors.chatwoot import import_chatwoot
from cxmetrics.connectors.freshdesk import import_freshdesk
from cxmetrics.connectors.intercom import import_intercom
from cxmetrics.connectors.zendesk import import_zendesk
from cxmetrics.errors import UnknownNameError, UserError


@dataclass(frozen=True)
class Vendor:
    """A help desk we read: its file importer, the converter of its API pages to
    canonical rows (files, sync and webhooks share it) and what `cxmetrics formats` says."""

    name: str
    import_files: Callable[..., ConnectorSummary]
    doc: str
    reads: tuple[str, ...]
    convert: Callable[[list[Page]], Batch]
    sync: Callable[[], Source] | None = None  # its live sync (`cxmetrics sync VENDOR`), once built


# `cxmetrics import VENDOR PATH` and `cxmetrics formats` read this table
VENDORS: dict[str, Vendor] = {
    "zendesk": Vendor("zendesk", import_zendesk, zendesk.DOC, zendesk.READS, zendesk.convert),
    "chatwoot": Vendor("chatwoot", import_chatwoot, chatwoot.DOC, chatwoot.READS, chatwoot.convert),
    "intercom": Vendor("intercom", import_intercom, intercom.DOC, intercom.READS, intercom.convert),
    "freshdesk": Vendor("freshdesk", import_freshdesk, freshdesk.DOC, freshdesk.READS, freshdesk.convert),
}


def import_vendor(ws: Workspace, vendor: str, path: str | os.PathLike[str], *, source: str | None = None,
                  **unsupported: object) -> ConnectorSummary:
    """Import a help desk's saved API JSON (`vendor` as in VENDORS); `source` defaults
    to the vendor's name. Options of flat-file imports (mapping, file format) do not
    apply and are refused by name."""
    if vendor not in VENDORS:
        raise UnknownNameError("help desk", vendor, VENDORS)
    given = [k for k, v in unsupported.items() if v is not None]
    if given:
        opts = ", ".join("--" + k.replace("_", "-") for k in given)
        article = "an" if vendor[0] in "aeiou" else "a"
        raise UserError(f"{opts} does not apply to {article} {vendor} import: its JSON is read as the API "
                        "returns it. Leave the option out.")
    return VENDORS[vendor].import_files(ws, path, source=source or vendor)


__all__ = ["VENDORS", "ConnectorSummary", "SyncSummary", "sync", "Vendor", "import_chatwoot", "import_freshdesk", "import_intercom",
           "import_vendor", "import_zendesk"]
