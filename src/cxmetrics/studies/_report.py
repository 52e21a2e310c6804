"""The study report: one self-contained HTML page (or its PDF) a person would send around
(docs/studies.md, "The report and the Studies page").

`content(ws, study)` gathers what the report and the dashboard's Studies page show: the
findings, the leaderboard by SPI with intervals, the best company per channel, response times
by channel / region / company size, the review summaries and the SPI declaration, plus
Plotly figures as plain dicts. `report(ws, study, fmt)` renders it: HTML with Plotly's JS
inline (from the plotly package: it opens offline), or PDF printed from that HTML by headless
Chromium (`CXMETRICS_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on PATH).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from cxmetrics._pdf import ReportError, print_pdf
from cxmetrics._workspace import Workspace
from cxmetrics.errors import UserError
from cxmetrics.studies._findings import Finding, compose, duration, gather

FORMATS = ("html", "pdf")
COMPONENTS = ("availability", "responsiveness", "speed", "personalised", "relevant", "thorough", "empathetic")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Printing a report takes Chromium a few seconds; past this it is stuck, not slow.
ACCENT, OWN, NEUTRAL = "#2563eb", "#f59e0b", "#6b7280"
PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#06b6d4", "#ec4899", "#84cc16"]

_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("cxmetrics.studies", "templates"),
                                autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                                undefined=jinja2.StrictUndefined)




# -- figures -----------------------------------------------------------------------------------


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"margin": {"l": 60, "r": 16, "t": 30, "b": 40},
                            "font": {"family": "Inter, 'Segoe UI', system-ui, sans-serif", "size": 11,
                                     "color": "#1f2937"},
                            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "showlegend": False}
    base.update(extra)
    return base


def _board_figure(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    rows = [r for r in rows if r["spi"] is not None][::-1]  # best on top
    if not rows:
        return None
    return {"data": [{
        "type": "bar", "orientation": "h", "y": [r["company"] for r in rows], "x": [r["spi"] for r in rows],
        "marker": {"color": [OWN if r["own"] else ACCENT for r in rows]},
        "error_x": {"type": "data", "symmetric": False, "color": "#374151", "thickness": 1,
                    "array": [(r["spi_hi"] - r["spi"]) if r["spi_hi"] is not None else 0 for r in rows],
                    "arrayminus": [(r["spi"] - r["spi_lo"]) if r["spi_lo"] is not None else 0 for r in rows]},
        "customdata": [r["n"] for r in rows],
        "hovertemplate": "%{y}: SPI %{x:.0f} (n = %{customdata})<extra></extra>"}],
        "layout": _layout(margin={"l": 130, "r": 16, "t": 10, "b": 36}, xaxis={"range": [0, 100], "title": "SPI"},
                          yaxis={"automargin": True, "dtick": 1}, height=max(240, 20 * len(rows) + 60))}


def _heatmap(per_channel: Sequence[Mapping[str, Any]], order: Sequence[str]) -> dict[str, Any] | None:
    channels = sorted({r["channel"] for r in per_channel})
    companies = [c for c in order if any(r["company"] == c for r in per_channel)]
    if not channels or not companies:
        return None
    cell = {(r["company"], r["channel"]): r["spi"] for r in per_channel}
    return {"data": [{"type": "heatmap", "x": channels, "y": companies[::-1], "zmin": 0, "zmax": 100,
                      "z": [[cell.get((c, ch)) for ch in channels] for c in companies[::-1]],
                      "colorscale": "Blues", "reversescale": True,
                      "colorbar": {"title": {"text": "SPI"}, "thickness": 10},
                      "hovertemplate": "%{y} on %{x}: SPI %{z:.0f}<extra></extra>"}],
            "layout": _layout(margin={"l": 130, "r": 16, "t": 10, "b": 36}, height=max(260, 18 * len(companies) + 60),
                              yaxis={"automargin": True, "dtick": 1})}


def _times_figure(scores: Sequence[Mapping[str, Any]], by: str, title: str) -> dict[str, Any] | None:
    groups: dict[str, list[float]] = {}
    for r in scores:
        if r.get("answered") and r.get("response_s") is not None and r.get(by) is not None:
            groups.setdefault(str(r[by]), []).append(float(r["response_s"]) / 3600)
    if not groups:
        return None
    data = [{"type": "box", "name": f"{k} (n = {len(v)})", "y": v, "boxpoints": "outliers",
             "marker": {"color": PALETTE[i % len(PALETTE)]}, "hovertemplate": "%{y:.2f} h<extra></extra>"}
            for i, (k, v) in enumerate(sorted(groups.items()))]
    return {"data": data, "layout": _layout(title={"text": title, "font": {"size": 12}}, height=340,
                                            xaxis={"automargin": True},
                                            yaxis={"type": "log", "title": "hours to first response"})}


def _reviews_figure(reviews: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any] | None:
    if not reviews:
        return None
    data = []
    for i, band in enumerate(("negative", "neutral", "positive")):
        data.append({"type": "bar", "name": band, "x": [c for c, _ in reviews],
                     "y": [100 * (s["by_band"].get(band) or (0, 0, 0))[2] for _, s in reviews],
                     "marker": {"color": ("#ef4444", "#9ca3af", "#10b981")[i]},
                     "hovertemplate": f"{band}: %{{y:.1f}}% answered<extra></extra>"})
    return {"data": data, "layout": _layout(showlegend=True, barmode="group", legend={"orientation": "h", "y": 1.15},
                                            height=300,
                                            yaxis={"title": "% answered", "range": [0, 100]})}


# -- content -----------------------------------------------------------------------------------


def _num(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _review_row(company: str, s: Mapping[str, Any]) -> dict[str, Any]:
    def band(b: str) -> str:
        replied, n, rate = s["by_band"].get(b) or (0, 0, None)
        return "—" if not n else f"{100 * rate:.0f}% of {n:,}"

    value, lo, hi = s.get("negative_ratio") or (None, None, None)
    share, m = s.get("personalised_share") or (None, 0)
    rt = s.get("response_time") or {}
    return {"company": company, "reviews": f"{s['reviews']:,}",
            "rate": "—" if s.get("response_rate") is None else f"{100 * s['response_rate']:.1f}%",
            "negative": band("negative"), "neutral": band("neutral"), "positive": band("positive"),
            "ratio": "—" if value is None else f"{value:.2f}x ({_num(lo, 2)}–{_num(hi, 2)})",
            "median": duration(rt["median_s"]) if rt.get("median_s") is not None else "—",
            "before": f"{s.get('replies_before_review') or 0:,}",
            "personalised": "—" if share is None else f"{100 * share:.0f}% of {m:,}"}


def content(ws: Workspace, study: str) -> dict[str, Any]:
    """Everything the report and the Studies page show for `study` (see the module docstring)."""
    from cxmetrics.studies._declaration import declaration

    g = gather(ws, study)
    found: list[Finding] = compose(study, g["scores"], g["board"], g["per_channel"], g["own"], g["reviews"])
    own = g["own"]
    board = []
    for rank, r in enumerate(g["board"], start=1):
        board.append({**r, "rank": rank, "own": r["company"] in own, "spi_text": _num(r.get("spi")),
                      "interval_text": "—" if r.get("spi_lo") is None else f"{r['spi_lo']:.0f}–{r['spi_hi']:.0f}",
                      "answered_text": "—" if r.get("answered_share") is None else f"{100 * r['answered_share']:.0f}%",
                      "response_text": "—" if r.get("median_response_s") is None else duration(r["median_response_s"]),
                      "parts": {c: _num(r.get(c)) for c in COMPONENTS}})
    best = []
    for channel in sorted({r["channel"] for r in g["per_channel"]}):
        rows = sorted((r for r in g["per_channel"] if r["channel"] == channel and r["company"] not in own
                       and r.get("spi") is not None), key=lambda r: -r["spi"])
        if rows:
            top, second = rows[0], (rows[1] if len(rows) > 1 else None)
            best.append({"channel": channel, "company": top["company"], "spi_text": _num(top["spi"]), "n": top["n"],
                         "interval_text": "—" if top.get("spi_lo") is None
                         else f"{top['spi_lo']:.0f}–{top['spi_hi']:.0f}",
                         "second": second["company"] if second else None,
                         "second_spi": _num(second["spi"]) if second else None,
                         "apart": bool(second and top.get("spi_lo") is not None and second.get("spi_hi") is not None
                                       and top["spi_lo"] > second["spi_hi"])})
    decl = declaration(ws, study)
    scores = g["scores"]
    sent = sorted(str(r["sent_at"])[:10] for r in scores if r.get("sent_at") is not None)
    return {
        "study": study, "findings": [f.as_dict() for f in found], "leaderboard": board, "best": best,
        "own": sorted(own), "components": COMPONENTS,
        "companies": len({r["company"] for r in scores}), "channels": sorted({r["channel"] for r in scores}),
        "probes": len(scores), "first_sent": sent[0] if sent else None, "last_sent": sent[-1] if sent else None,
        "reviews": [_review_row(c, s) for c, s in g["reviews"] if s.get("reviews")],
        "weights": sorted(decl.weights.items(), key=lambda kv: COMPONENTS.index(kv[0]) if kv[0] in COMPONENTS else 99),
        "curves": [(ch, duration(fast), duration(slow)) for ch, (fast, slow) in sorted(decl.curves.items())],
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "figures": {
            "fig-leaderboard": _board_figure(board),
            "fig-heatmap": _heatmap(g["per_channel"], [r["company"] for r in board]),
            "fig-time-channel": _times_figure(scores, "channel", "by channel"),
            "fig-time-region": _times_figure(scores, "region", "by region"),
            "fig-time-size": _times_figure(scores, "company_size", "by company size"),
            "fig-reviews": _reviews_figure([(c, s) for c, s in g["reviews"] if s.get("reviews")]),
        },
    }


def body(data: Mapping[str, Any]) -> Markup:
    """The content as HTML without page or scripts (the dashboard puts it in its own page)."""
    return Markup(_TEMPLATES.get_template("_study_body.html").render(d=data))


# -- rendering ---------------------------------------------------------------------------------


def _plotly_js() -> str:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise UserError(f"plotly.min.js is missing from the installed plotly package ({path}): reinstall plotly "
                        "(pip install --force-reinstall plotly).")
    return path.read_text(encoding="utf-8")


def html(data: Mapping[str, Any], *, static: bool = False) -> str:
    """The report page, self-contained (Plotly inline)."""
    return _TEMPLATES.get_template("report.html").render(d=data, with_js=True, plotly_js=Markup(_plotly_js()),
                                                         static=static)


def chromium() -> str:
    """The Chromium binary to print with: CXMETRICS_CHROMIUM, else the first on PATH."""
    named = os.environ.get("CXMETRICS_CHROMIUM")
    if named:
        found = shutil.which(named)
        if not found:
            raise UserError(f"CXMETRICS_CHROMIUM='{named}' is not an executable: set it to the path of Chromium "
                            "or Chrome, or unset it to look for chromium on PATH.")
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise UserError("the PDF report is printed by headless Chromium, and none was found (looked for "
                    f"{', '.join(CHROMIUM_NAMES)} on PATH): install it (e.g. `apt-get install chromium`) or set "
                    "CXMETRICS_CHROMIUM to its path; `--format html` needs no browser.")


def pdf(page: str) -> bytes:
    """Print an HTML page to PDF with headless Chromium (A4, no header or footer)."""
    # (a window the charts lay out in, and time for them to draw before printing)
    return print_pdf(page, chromium(), prefix="cxmetrics-report-",
                     extra=("--window-size=760,1000", "--run-all-compositor-stages-before-draw",
                            "--virtual-time-budget=15000"))


def report(ws: Workspace, study: str, fmt: str = "html") -> bytes:
    """The study's report as HTML (UTF-8) or PDF bytes."""
    if fmt not in FORMATS:
        raise UserError(f"format '{fmt}' is not a report format: choose html or pdf.")
    data = content(ws, study)
    if fmt == "html":
        return html(data).encode("utf-8")
    return pdf(html(data, static=True))


__all__ = ["FORMATS", "ReportError", "body", "chromium", "content", "html", "pdf", "report"]
