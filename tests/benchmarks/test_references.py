"""The shipped benchmark references: every value sourced, quoted, dated, in range and in its metric's unit."""

from __future__ import annotations

from collections import Counter

import pytest

import cxmetrics
from cxmetrics import benchmarks
from cxmetrics.benchmarks import BenchmarkDataError, Reference, load, references, segments
from cxmetrics.errors import UnknownNameError
from cxmetrics.metrics._registry import registry

ALL = references()
BOUNDS = {"percent": (0, 100), "points": (-100, 100), "seconds": (0, 30 * 24 * 3600)}


def test_there_is_a_useful_number_of_entries():
    assert 15 <= len(ALL) <= 40


@pytest.mark.parametrize("ref", ALL, ids=lambda r: f"{r.key}-{r.segment}-{r.statistic}")
def test_every_entry_is_sourced_quoted_dated_and_in_range(ref: Reference):
    assert ref.source.strip()
    assert ref.url.startswith(("https://", "http://"))
    assert 2015 <= ref.year <= 2026
    assert ref.quote.strip()
    assert ref.note.strip()
    lo, hi = BOUNDS[ref.unit]
    assert lo <= ref.value <= hi


def test_keys_are_known_metric_ids_in_their_registry_unit():
    specs = registry().specs
    for ref in ALL:
        assert ref.key in specs, ref.key
        assert ref.unit == specs[ref.key].unit.value, (ref.key, ref.unit)


def test_no_duplicate_key_segment_statistic_source():
    counts = Counter((r.key, r.segment, r.statistic, r.source) for r in ALL)
    assert [k for k, n in counts.items() if n > 1] == []


def test_the_quote_carries_the_number_for_percent_and_points():
    # Durations are converted to seconds, so only the unconverted units must appear as written.
    for ref in ALL:
        if ref.unit != "seconds":
            shown = f"{ref.value:g}"
            assert shown in ref.quote.replace(",", ""), (ref.key, ref.segment, shown, ref.quote)


def test_every_wanted_metric_has_at_least_one_reference():
    assert {r.key for r in ALL} == set(benchmarks.KEYS)


def test_filters_and_segments():
    email = references("frt", "email")
    assert email and all(r.key == "frt" and r.segment == "email" for r in email)
    assert references(segment="airlines") == [r for r in ALL if r.segment == "airlines"]
    assert segments("frt") == sorted({r.segment for r in ALL if r.key == "frt"})
    assert {"email", "chat", "phone", "social"} <= set(segments("frt"))


def test_unknown_names_are_refused_with_a_suggestion():
    with pytest.raises(UnknownNameError, match="Did you mean 'csat'"):
        references("cast")
    with pytest.raises(UnknownNameError):
        references("csat", "bankinq")
    with pytest.raises(UnknownNameError):
        segments("resolution_time")


def test_references_are_immutable():
    with pytest.raises(Exception):
        ALL[0].value = 1  # type: ignore[misc]


GOOD = """
- key: nps
  segment: retail
  value: 28
  unit: points
  statistic: average
  source: "Somebody, Some report"
  source_kind: independent_study
  url: "https://example.org/report"
  year: 2023
  quote: "The average is 28."
  note: "Same calculation as ours."
"""


def test_a_good_entry_loads():
    (ref,) = load(GOOD, "t.yaml")
    assert ref.value == 28.0 and ref.unit == "points"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("year: 2023", "year: 2012"), "year"),
        (('quote: "The average is 28."', 'quote: "  "'), "quote"),
        (("unit: points", "unit: percent"), "unit"),
        (("value: 28", "value: 140"), "outside"),
        (("key: nps", "key: nps_score"), "key"),
        (("segment: retail", "segment: groceries"), "segment"),
        (('url: "https://example.org/report"', 'url: "example.org"'), "url"),
        (("value: 28", 'value: "28"'), "value"),
        (("source_kind: independent_study", "source_kind: hearsay"), "source_kind"),
    ],
)
def test_a_bad_entry_fails_naming_the_entry_and_field(change: tuple[str, str], field: str):
    text = GOOD.replace(*change)
    with pytest.raises(BenchmarkDataError) as info:
        load(text, "t.yaml")
    message = str(info.value)
    assert "t.yaml[0]" in message and field in message, message


def test_a_missing_field_is_named():
    text = "\n".join(line for line in GOOD.splitlines() if not line.strip().startswith("source:"))
    with pytest.raises(BenchmarkDataError, match=r"t\.yaml\[0\] \(nps/retail\), field 'source'"):
        load(text, "t.yaml")


def test_duplicates_are_refused():
    with pytest.raises(BenchmarkDataError, match="duplicates entry 0"):
        load(GOOD + GOOD, "t.yaml")


# Issue 10, item 9: a benchmark says what kind of source measured it, and a vendor's
# marketing figure for its own product (Intercom's "67%" Fin resolution rate) is not one.
def test_every_reference_names_the_kind_of_source_that_measured_it():
    from cxmetrics.benchmarks import SOURCE_KINDS

    assert {r.source_kind for r in ALL} <= set(SOURCE_KINDS)
    assert all(r.kind_label == SOURCE_KINDS[r.source_kind] for r in ALL)
    # the ACSI is an independent index; Comm100's report is a vendor's own customers' data
    assert {r.source_kind for r in ALL if "ACSI" in r.source} == {"independent_study"}
    assert {r.source_kind for r in ALL if r.source.startswith("Comm100")} == {"vendor_study"}
    # the 80/20 service level is a convention, not a measurement
    assert [r.source_kind for r in references("service_level")] == ["convention"]


def test_the_vendors_bot_marketing_figure_is_not_a_benchmark():
    assert not [r for r in ALL if "Intercom" in r.source or (r.key == "bot_resolution_rate" and r.value == 67)]
    entry = """
- key: bot_resolution_rate
  segment: all
  value: 67
  unit: percent
  statistic: average
  source: "A vendor, about its own AI agent"
  source_kind: vendor_claim
  url: "https://example.com/"
  year: 2026
  quote: "Our average resolution rate is 67%."
  note: "A vendor's claim about its product."
"""
    with pytest.raises(BenchmarkDataError, match="marketing, not a measured benchmark"):
        load(entry)


def test_the_cli_shows_each_benchmarks_kind_of_source(tmp_path):
    from click.testing import CliRunner

    from cxmetrics.cli import main

    cxmetrics.open(tmp_path / "ws", create=True).close()
    out = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "metrics", "csat", "--benchmark", "banking"])
    assert out.exit_code == 0, out.output
    assert "78.0% (average, independent study)" in out.output
