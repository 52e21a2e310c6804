"""Issue 15 item 4: `cxmetrics report study STUDY [--format html|pdf]`, the benchmark report.

The study (tests/studies/_study_data.py) is made by hand, so what the report must say is known
without the code: 3 companies, 15 probes on chat, email and phone; Bolt's phone and Crane's
chat probes went to channels they do not offer (2 of 15); Acme's phone, Bolt's chat and one
of Crane's emails were ignored (3 of the 13 on offered channels); of the 10 answers, 2 were
auto-replies and 2 got a follow-up. Of the 12 reviews of "Our app", rows 0, 1, 4 and 7 have a
reply (4 of 12), all four negative (ratings 1, 2, 1, 2), of the 5 negative reviews.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.errors import UserError
from cxmetrics.studies._findings import findings
from cxmetrics.studies._report import report
from cxmetrics.studies._spi import spi
from studies._study_data import STUDY, build

SCREENSHOTS = Path(__file__).parent.parent / "web" / "screenshots"


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("study_report"))


@pytest.fixture(scope="module")
def page(ws_path: Path) -> str:
    with cxmetrics.open(ws_path, read_only=True) as ws:
        return report(ws, STUDY, "html").decode("utf-8")


def test_html_report_has_the_findings_and_numbers_by_hand(ws_path: Path, page: str) -> None:
    with cxmetrics.open(ws_path, read_only=True) as ws:
        sentences = [f.text for f in findings(ws, STUDY)]
    assert sentences and all(str(escape(s)) in page for s in sentences)
    # the shares and review numbers worked out by hand (module docstring)
    for part in ("(2 of 15;", "(3 of 13;", "auto-reply only (2 of 10;", "follow-up (2 of 10;",
                 "Our app answered 33% of its 12 reviews (4 of 12;", "80% of negative (1-2 star) (4 of 5)"):
        assert str(escape(part)) in page, part
    assert "3 companies · chat, email, phone · 15 probes sent 2026-03-02 to 2026-03-03" in page


def test_html_report_is_self_contained_with_the_leaderboard(ws_path: Path, page: str) -> None:
    # opens offline: Plotly's bundle inline, nothing loaded from elsewhere
    assert re.findall(r"""<(?:script|link|img)[^>]*(?:src|href)=""", page) == []
    assert "window.Plotly" in page and len(page) > 1_000_000
    with cxmetrics.open(ws_path, read_only=True) as ws:
        board = sorted(spi(ws, STUDY, by=("company",), own=True).to_pylist(), key=lambda r: -r["spi"])
    table = page[page.index('id="leaderboard-table"'):]
    positions = [table.index(f"<td>{r['company']}") for r in board]
    assert positions == sorted(positions)  # best first
    assert "<td>us (you)</td>" in table  # the organisation's tickets make its own row
    # the declaration the scores used: the documented default weights
    decl = page[page.index('id="declaration-table"'):]
    for name, weight in (("availability", 15), ("responsiveness", 20), ("speed", 20), ("personalised", 10)):
        assert f"<td>{name}</td><td class=\"r\">{weight:.1f}</td>" in decl


@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
                    reason="needs chromium and poppler-utils (pdftoppm)")
def test_pdf_report_renders_pages(ws_path: Path, tmp_path: Path) -> None:
    with cxmetrics.open(ws_path, read_only=True) as ws:
        data = report(ws, STUDY, "pdf")
    assert data[:5] == b"%PDF-"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Leaderboard by SPI" in text and "Best company per channel" in text and "Review responses" in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    SCREENSHOTS.mkdir(exist_ok=True)
    for p in pages:  # kept for a person to look at
        shutil.copy(p, SCREENSHOTS / f"study_report_{p.name}")
    # the charts were drawn before printing: the first page's leaderboard bars are the accent blue
    # (#2563eb), read from the page as raw RGB (PPM: a text header, then 3 bytes a pixel)
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "raw")], check=True)
    raw = next(tmp_path.glob("raw-*.ppm")).read_bytes()
    magic, width, height, depth, pixels = raw.split(maxsplit=4)
    assert magic == b"P6" and depth == b"255"
    blue = sum(1 for i in range(0, len(pixels) - 2, 3)
               if pixels[i] < 80 and 70 < pixels[i + 1] < 130 and pixels[i + 2] > 200)
    assert blue > 200


def test_cli_writes_the_report(ws_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["--workspace", str(ws_path), "report", "study", STUDY, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and "Leaderboard by SPI" in out.read_text(encoding="utf-8")


def test_cli_unknown_study_names_the_nearest(ws_path: Path) -> None:
    result = CliRunner().invoke(main, ["--workspace", str(ws_path), "report", "study", "telco-2025"])
    assert result.exit_code == 1
    assert "UserError: study 'telco-2025' has no probes. Did you mean 'telco-2026'?" in result.output


def test_missing_chromium_says_how_to_install(ws_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXMETRICS_CHROMIUM", "/nonexistent/chromium")
    result = CliRunner().invoke(main, ["--workspace", str(ws_path), "report", "study", STUDY, "--format", "pdf",
                                       "--out", "-"])
    assert result.exit_code == 1
    assert "UserError: CXMETRICS_CHROMIUM='/nonexistent/chromium' is not an executable" in result.output
    monkeypatch.setenv("CXMETRICS_CHROMIUM", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    with cxmetrics.open(ws_path, read_only=True) as ws, pytest.raises(UserError, match="apt-get install chromium"):
        report(ws, STUDY, "pdf")


def test_unknown_format(ws_path: Path) -> None:
    with cxmetrics.open(ws_path, read_only=True) as ws, pytest.raises(UserError, match="choose html or pdf"):
        report(ws, STUDY, "docx")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftotext") is None,
                    reason="needs chromium and poppler-utils (pdftotext)")
def test_the_demo_report_renders_to_html_and_pdf(tmp_path: Path) -> None:
    """Issue 15 acceptance: the report renders from the demo (its study, its tickets, its reviews)."""
    ws_dir = tmp_path / "demo"
    result = CliRunner().invoke(main, ["--workspace", str(ws_dir), "demo", "--tickets", "1000", "--no-serve",
                                       "--end", "2026-11-01T00:00Z"])
    assert result.exit_code == 0, result.output
    with cxmetrics.open(ws_dir, read_only=True) as ws:
        study = ws.sql("SELECT DISTINCT study FROM probes").to_pylist()[0]["study"]
        companies = ws.sql("SELECT count(DISTINCT company) AS n FROM probes").to_pylist()[0]["n"]
        page = report(ws, study, "html").decode("utf-8")
        data = report(ws, study, "pdf")
    table = page[page.index('id="leaderboard-table"'):page.index("</table>", page.index('id="leaderboard-table"'))]
    assert table.count("<tr") == 1 + companies + 1  # the header, every company, and the organisation
    assert "<td>us (you)</td>" in table and 'id="reviews-table"' in page
    (tmp_path / "demo.pdf").write_bytes(data)
    text = subprocess.run(["pdftotext", str(tmp_path / "demo.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert data[:5] == b"%PDF-" and text.count("\f") >= 3  # several pages
    for heading in ("Findings", "Leaderboard by SPI", "Best company per channel", "Response time",
                    "Review responses", "How the SPI is computed"):
        assert heading in text, heading
