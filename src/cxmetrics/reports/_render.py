"""The report as HTML (the e-mail body), plain text (its alternative) and PDF.

The PDF is the same page printed by headless Chromium on A4, each section on its own page.
The browser is the one `reports.toml` names (`chromium`), else `CXMETRICS_CHROMIUM`, else
/usr/bin/chromium (the browser tests' too), else `chromium` (or Chrome) on PATH.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2

from cxmetrics._pdf import ReportError, print_pdf
from cxmetrics.errors import UserError
from cxmetrics.reports._config import CONFIG_FILE, DEFAULT_CHROMIUM

_PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")




@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("cxmetrics.reports", "templates"), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def html(data: Mapping[str, Any], *, pdf: bool = False) -> str:
    """The report page; `pdf` adds the A4 page rule and page breaks between sections."""
    return _env().get_template("weekly.html").render(d=data, pdf=pdf)


def text(data: Mapping[str, Any]) -> str:
    """The plain-text alternative: the same sections, for clients that show no HTML."""
    lines = [data["title"], f"{data['period_text']} ({data['timezone']}), compared with {data['previous']}", ""]
    lines.append("Headline KPIs")
    for k in data["kpis"]:
        value = k["hidden_reason"] if k["hidden"] else f"{k['value_text']}{(' ' + k['suffix']) if k['suffix'] else ''}"
        target = f"target {k['target_text']}: {k['status']}" if k["target_text"] else "no target"
        c = k["change"]
        change = "" if not c or c.get("no_data") else f"; {c['text']} vs {data['previous']} ({c['verdict']})"
        lines.append(f"  {k['title']}: {value} ({target}{change})")
    ch = data["changes"]
    lines += ["", f"What changed (significant at the {ch['level']} level)"]
    lines += [f"  {c['title']}: {c['from_text']} -> {c['to_text']} ({c['change_text']}; {c['test']}, {c['p_text']})"
              for c in ch["real"]] or ["  No KPI changed beyond noise this week."]
    sla = data["sla"]
    lines += ["", "SLA breaches"]
    if not sla["configured"]:
        lines.append(f"  SLAs are not set up: {sla['why']}")
    else:
        lines.append(f"  {sla['total']} breached in the week")
        lines += [f"  {g['metric_label']} / {g['policy']}: {g['breaches']}" for g in sla["groups"]]
        lines += [f"  worst: {w['source']}/{w['ticket_id']} {w['metric_label']} ({w['policy']}), "
                  f"late by {w['late_text']}"
                  for w in sla["worst"]]
    lines += ["", "Top topics"]
    lines += [f"  {t['topic']}: {t['tickets']} ({t['share_text']}), {t['change_text'] or '-'} ({t['verdict']})"
              for t in data["topics"]] or ["  none"]
    lines += ["", f"Made {data['generated_at']} by cxmetrics. The PDF attached (if any) has the same content."]
    return "\n".join(lines) + "\n"


def chromium(configured: str | None = None) -> str:
    """The browser to print with (see the module docstring); UserError naming the fix if none."""
    named = configured or os.environ.get("CXMETRICS_CHROMIUM")
    if named:
        found = shutil.which(named)
        if found is None:
            where = f"{CONFIG_FILE} chromium" if configured else "CXMETRICS_CHROMIUM"
            raise UserError(f"{where} = '{named}' is not an executable: set it to the path of Chromium or Chrome "
                            f"(e.g. {DEFAULT_CHROMIUM}), or remove it to look for chromium on PATH.")
        return found
    if os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    for name in _PATH_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise UserError(f"the PDF is printed by headless Chromium, and none was found ({DEFAULT_CHROMIUM}, or "
                    f"{', '.join(_PATH_NAMES)} on PATH): install it (apt-get install chromium), or set chromium = "
                    f"\"/path/to/chromium\" in {CONFIG_FILE}; --format html (or format = \"html\") needs no browser.")


def pdf(page: str, *, binary: str | None = None) -> bytes:
    """Print an HTML page to PDF with headless Chromium (A4 from the page's @page rule, no
    header or footer); the page is written to a temporary file first."""
    return print_pdf(page, chromium(binary), prefix="cxmetrics-weekly-")
