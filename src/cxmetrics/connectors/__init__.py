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
from cxmetrics.connectors import chatwoot_sync
from cxmetrics.connectors import freshdesk_sync
from cxmetrics.connectors import intercom_sync
from cxmetrics.connectors._plumbing import Batch, ConnectorSummary, Page
from cxmetrics.connectors._sync import Source, SyncSummary, sync
from cxmetrics.connectors.chatwoot import import_chatwoot
from cxmetrics.connectors.freshdesk import import_freshdesk
from cxmetrics.connectors.intercom import import_intercom
from cxmetrics.connectors.zendesk import import_zendesk
from cxmetrics.connectors import zendesk_sync
from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.settings import Settings


@dataclass(frozen=True)
class Vendor:
    """A help desk we read: its file importer, the converter of its API pages to
    canonical rows (files, sync and webhooks share it) and what `cxmetrics formats` says."""

    name: str
    import_files: Callable[..., ConnectorSummary]
    doc: str
    reads: tuple[str, ...]
    convert: Callable[[list[Page]], Batch]
    sync: Callable[[Settings], Source] | None = None  # its live sync (`cxmetrics sync VENDOR`): streams for these settings


# `cxmetrics import VENDOR PATH` and `cxmetrics formats` read this table
VENDORS: dict[str, Vendor] = {
    "zendesk": Vendor("zendesk", import_zendesk, zendesk.DOC, zendesk.READS, zendesk.convert,
                      sync=zendesk_sync.source),
    "chatwoot": Vendor("chatwoot", import_chatwoot, chatwoot.DOC, chatwoot.READS, chatwoot.convert,
                       sync=chatwoot_sync.source),
    "intercom": Vendor("intercom", import_intercom, intercom.DOC, intercom.READS, intercom.convert,
                       sync=intercom_sync.source),
    "freshdesk": Vendor("freshdesk", import_freshdesk, freshdesk.DOC, freshdesk.READS, freshdesk.convert,
                        sync=freshdesk_sync.source),
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
