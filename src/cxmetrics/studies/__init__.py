"""Benchmark studies and reviews (docs/studies.md): the Support Performance Index of a study's
companies (and of the organisation itself), review-response metrics, and the study report.

- `studies`, `probe_scores`, `spi`, `declaration`: a study's probes scored into the SPI, per
  company, channel, region or size, with bootstrap intervals, under the declared weights;
- `review_summary`, `review_sentences`: how many reviews a company answers, by star band, and how fast;
- `findings`, `report`: the study's findings as sentences with their numbers and n, and the
  report (HTML, or PDF through headless Chromium)."""

from __future__ import annotations

from cxmetrics.studies._declaration import SpiDeclaration, declaration
from cxmetrics.studies._findings import Finding, findings
from cxmetrics.studies._report import ReportError, report
from cxmetrics.studies._reviews import review_sentences, review_summary
from cxmetrics.studies._spi import probe_scores, spi, studies

__all__ = [
    "Finding", "ReportError", "SpiDeclaration", "declaration", "findings", "probe_scores", "report",
    "review_sentences", "review_summary", "spi", "studies",
]
