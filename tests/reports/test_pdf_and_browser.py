"""The PDF (printed by headless Chromium) and the HTML e-mail as a browser shows it: pages
turned into images with pdftoppm and a screenshot, kept in tests/reports/screenshots/ to be
looked at (issue 11, item 8)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.reports import ReportsConfig, Week, build
from cxmetrics.reports._render import chromium
from cxmetrics.errors import UserError
from reports._reports_helpers import pdf_pages, write_reports
from web._web_helpers import CHROMIUM, CHROMIUM_ARGS

SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture
def week() -> Week:
    return Week.ending_before(datetime.now(UTC).date())


def test_the_pdf_is_a4_with_a_page_per_section_and_its_pages_are_images(ws_path: Path, week: Week,
                                                                         tmp_path: Path) -> None:
    out = tmp_path / "weekly.pdf"
    result = CliRunner().invoke(main, ["-w", str(ws_path), "report", "weekly", "--week", week.label,
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    data = out.read_bytes()
    assert data[:5] == b"%PDF-"
    # four sections, each from a new page (the KPI table, changes, SLA breaches, topics)
    assert pdf_pages(data) >= 4
    # A4: 595 x 842 points (210 x 297 mm), every page
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert len(boxes) == pdf_pages(data)
    assert all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes), boxes
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: apt-get install poppler-utils"
    SHOTS.mkdir(exist_ok=True)
    for old in SHOTS.glob("weekly-pdf-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-png", "-r", "60", str(out), str(SHOTS / "weekly-pdf")], check=True, timeout=120)
    pages = sorted(SHOTS.glob("weekly-pdf-*.png"))
    assert len(pages) == pdf_pages(data)
    assert all(p.stat().st_size > 3000 for p in pages)  # not blank


def test_the_html_email_in_a_browser(ws_path: Path, week: Week, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with cxmetrics.open(ws_path) as ws:
        built = build(ws, week, fmt="html")
    page_file = tmp_path / "weekly.html"
    page_file.write_text(built.html, encoding="utf-8")
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 1000})
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(page_file.as_uri())
            page.screenshot(path=str(SHOTS / "weekly-email.png"), full_page=True)
            headings = page.locator("h2").all_inner_texts()
            kpi_rows = page.locator("h2:has-text('Headline KPIs') + table tr").count()
            page.set_viewport_size({"width": 390, "height": 900})  # a phone's mail app
            page.screenshot(path=str(SHOTS / "weekly-email-phone.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 40")
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]  # nothing loaded from anywhere else
    assert not errors
    assert headings == ["Headline KPIs", "What changed", "SLA breaches", "Top topics"]
    assert kpi_rows == 1 + len(built.data["kpis"])
    assert not overflow


def test_a_missing_chromium_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CXMETRICS_CHROMIUM", raising=False)
    with pytest.raises(UserError, match=r"reports.toml chromium = '/nowhere/chromium' is not an executable"):
        chromium("/nowhere/chromium")
    cfg = ReportsConfig.from_dict({"chromium": "/nowhere/chromium"})
    write_reports(tmp_path, 'chromium = "/nowhere/chromium"\n')
    with cxmetrics.open(tmp_path / "ws", create=True):
        pass
    (tmp_path / "ws" / "reports.toml").write_text('chromium = "/nowhere/chromium"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["-w", str(tmp_path / "ws"), "report", "weekly", "--week", "2026-W10"])
    assert result.exit_code == 1
    assert "UserError: reports.toml chromium = '/nowhere/chromium' is not an executable" in result.output
    assert cfg.chromium == "/nowhere/chromium"
