"""HTML to PDF with headless Chromium: the studies' benchmark report and the weekly report
print their pages the same way (A4 from the page's @page rule, no header or footer).

Chromium is an outside program: a missing or failing one is the user's to fix, and the
errors say how (the binary to install or name, or `--format html`, which needs none).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cxmetrics.errors import CxError

#: printing takes Chromium a few seconds; past this it is stuck, not slow
PDF_TIMEOUT_S = 120
#: the Chromium options every print uses: no sandbox (root in containers), no first-run,
#: background or update traffic, no shared-memory device, and no header or footer
_OPTIONS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-pdf-header-footer")


class ReportError(CxError):
    """The PDF could not be printed (Chromium failed); the message has Chromium's own words."""


def print_pdf(page: str, binary: str, *, extra: Sequence[str] = (), prefix: str = "cxmetrics-pdf-") -> bytes:
    """Print the HTML `page` to PDF with the Chromium at `binary` (`extra`: more options, such
    as a window size or a time budget for charts to draw). The page is written to a temporary
    folder first, with a profile of its own, both removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(page, encoding="utf-8")
        args = [binary, *_OPTIONS, f"--user-data-dir={tmp}/profile", *extra, f"--print-to-pdf={out}", src.as_uri()]
        try:
            done = subprocess.run(args, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium ({binary}) did not finish printing the PDF within {PDF_TIMEOUT_S} s; "
                              "try again, or use --format html.") from None
        if not out.is_file() or out.stat().st_size == 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise ReportError(f"Chromium ({binary}) printed no PDF (exit {done.returncode}): {' / '.join(tail)}")
        return out.read_bytes()


__all__ = ["PDF_TIMEOUT_S", "ReportError", "print_pdf"]
