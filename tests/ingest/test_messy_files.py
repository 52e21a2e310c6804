"""Real files are messy: none of these may crash an import or be silently misread (issue 2)."""

from __future__ import annotations

import pytest

import cxmetrics
from conftest import rows, write

HEADER = "ticket_id,created_at,channel,subject"


def test_bom_crlf_blank_lines_and_quoted_newlines(ws, tmp_path):
    text = "\ufeff" + HEADER + "\r\n" + 'T1,2025-03-03T08:00:00Z,email,"line one\r\nline two"\r\n\r\nT2,2025-03-03T09:00:00Z,chat,plain\r\n'
    s = ws.import_file("tickets", write(tmp_path / "bom.csv", text))
    assert (s.read, s.inserted, s.quarantined) == (2, 2, 0)
    assert rows(ws, "SELECT ticket_id, subject FROM tickets ORDER BY 1") == [("T1", "line one\r\nline two"), ("T2", "plain")]


def test_bare_cr_line_endings(ws, tmp_path):
    # old-Mac files, as the Anonymous Bank shifts file
    text = HEADER + "\rT1,2025-03-03T08:00:00Z,email,a\rT2,nope,chat,b\r"
    s = ws.import_file("tickets", write(tmp_path / "cr.csv", text))
    assert (s.read, s.inserted, s.quarantined) == (2, 1, 1)
    assert ws.quarantine().to_pylist()[0]["line"] == 3


def test_empty_strings_are_nulls(ws, tmp_path):
    s = ws.import_file("tickets", write(tmp_path / "e.csv", "ticket_id,created_at,channel,team,reopens\nT1,2025-03-03T08:00:00Z, ,,\n"))
    assert s.inserted == 1
    assert rows(ws, "SELECT channel, team, reopens_reported FROM tickets") == [(None, None, None)]


def test_values_lose_surrounding_spaces_unicode_ones_too_but_keep_tabs(ws, tmp_path):
    # spaces, no-break spaces (a spreadsheet's), ideographic and em spaces are cut; a tab or a
    # space inside the value is kept; a value of spaces only is none
    text = (HEADER + "\n"
            " T1 ,2025-03-03T08:00:00Z, Email ,a b\n"
            "\u00a0T2\u00a0,2025-03-03T08:00:00Z,chat\u3000,\u2003x\n"
            "T3,2025-03-03T08:00:00Z,\u00a0,\"\ty \"\n"
            "T4\u00e9 ,2025-03-03T08:00:00Z,  ,caf\u00e9\n")
    s = ws.import_file("tickets", write(tmp_path / "spaces.csv", text))
    assert (s.read, s.inserted, s.quarantined) == (4, 4, 0)
    assert rows(ws, "SELECT ticket_id, channel, subject FROM tickets ORDER BY 1") == [
        ("T1", "email", "a b"), ("T2", "chat", "x"), ("T3", None, "\ty"), ("T4\u00e9", None, "caf\u00e9")]


def test_naive_timestamps_are_read_in_the_workspace_zone_and_offsets_are_kept(tmp_path):
    with cxmetrics.open(tmp_path / "w", create=True) as ws:
        ws.configure(timezone="Europe/Berlin")
        text = HEADER + "\nT1,2025-01-15 10:00,email,naive winter\nT2,2025-07-15 10:00,email,naive summer\nT3,2025-01-15T10:00:00-05:00,email,offset\n"
        ws.import_file("tickets", write(tmp_path / "tz.csv", text))
        got = rows(ws, "SELECT ticket_id, strftime(timezone('UTC', created_at), '%Y-%m-%d %H:%M') FROM tickets ORDER BY 1")
    # Berlin is UTC+1 in winter, UTC+2 in summer; an explicit offset wins
    assert got == [("T1", "2025-01-15 09:00"), ("T2", "2025-07-15 08:00"), ("T3", "2025-01-15 15:00")]


def test_day_first_dates_need_the_mapping_and_are_never_guessed(ws, tmp_path):
    text = HEADER + "\nT1,03/04/2025 10:00,email,x\n"
    path = write(tmp_path / "dmy.csv", text)
    s = ws.import_file("tickets", path)
    assert s.quarantined == 1 and "dayfirst" in ws.quarantine().to_pylist()[0]["reason"]
    mapping = write(tmp_path / "m.toml", '[timestamps]\ndayfirst = true\ntimezone = "UTC"\n')
    s = ws.import_file("tickets", path, mapping=mapping)
    assert (s.inserted, s.quarantined) == (1, 0)
    assert rows(ws, "SELECT strftime(created_at, '%Y-%m-%d %H:%M') FROM tickets") == [("2025-04-03 10:00",)]
    assert ws.quarantine().num_rows == 0  # the fixed import replaced the file's quarantine


def test_mapping_renames_columns_and_maps_values(ws, tmp_path):
    text = "\ufeffTicket ID;Opened;Medium;Ignored\nA-1;2025-03-03 08:00;E-mail;zzz\nA-2;2025-03-03 09:00;Live Chat;zzz\n"
    mapping = write(
        tmp_path / "m.toml",
        'source = "helpdesk"\n[columns]\n"Ticket ID" = "ticket_id"\n"Opened" = "created_at"\n"Medium" = "channel"\n'
        '[values.channel]\n"E-mail" = "email"\n"Live Chat" = "chat"\n[csv]\ndelimiter = ";"\n',
    )
    s = ws.import_file("tickets", write(tmp_path / "x.csv", text), mapping=mapping)
    assert s.inserted == 2 and s.ignored_columns == ("Ignored",)
    assert rows(ws, "SELECT source, ticket_id, channel FROM tickets ORDER BY 2") == [("helpdesk", "A-1", "email"), ("helpdesk", "A-2", "chat")]


def test_header_names_match_case_and_punctuation_blind(ws, tmp_path):
    s = ws.import_file("tickets", write(tmp_path / "h.csv", "Ticket ID,Created At,CHANNEL\nT1,2025-03-03T08:00:00Z,Email\n"))
    assert s.inserted == 1 and rows(ws, "SELECT channel FROM tickets") == [("email",)]


def test_huge_text_field(ws, tmp_path):
    body = "x" * 5_000_000
    s = ws.import_file("tickets", write(tmp_path / "big.csv", HEADER + f"\nT1,2025-03-03T08:00:00Z,email,\"{body}\"\nT2,2025-03-03T08:00:00Z,email,small\n"))
    assert (s.inserted, s.quarantined) == (2, 0)
    assert rows(ws, "SELECT length(subject) FROM tickets WHERE ticket_id = 'T1'") == [(5_000_000,)]


def test_invalid_utf8_row_is_quarantined_not_misread(ws, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes((HEADER + "\nT1,2025-03-03T08:00:00Z,email,ok\nT2,2025-03-03T08:00:00Z,email,caf").encode() + b"\xe9\nT3,2025-03-03T08:00:00Z,email,ok\n")
    s = ws.import_file("tickets", path)
    assert (s.read, s.inserted, s.quarantined) == (3, 2, 1)
    q = ws.quarantine().to_pylist()[0]
    assert q["line"] == 3 and "encoding" in q["reason"]


def test_latin1_file_with_encoding_mapping(ws, tmp_path):
    path = tmp_path / "l1.csv"
    path.write_bytes((HEADER + "\nT1,2025-03-03T08:00:00Z,email,café\n").encode("latin-1"))
    mapping = write(tmp_path / "m.toml", '[csv]\nencoding = "latin-1"\n')
    assert ws.import_file("tickets", path, mapping=mapping).inserted == 1
    assert rows(ws, "SELECT subject FROM tickets") == [("café",)]


def test_epoch_timestamps(ws, tmp_path):
    mapping = write(tmp_path / "m.toml", '[timestamps]\nformat = "epoch"\n')
    ws.import_file("tickets", write(tmp_path / "ep.csv", HEADER + "\nT1,1741000000,email,x\n"), mapping=mapping)
    assert rows(ws, "SELECT strftime(timezone('UTC', created_at), '%Y-%m-%d %H:%M:%S') FROM tickets") == [("2025-03-03 11:06:40",)]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[columns]\n"x" = "not_a_column"\n', "not a column of this import"),
        ('[timestamps]\ntimezone = "Mars/Olympus"\n', "not an IANA time zone"),
        ("[wat]\n", "unknown key"),
        ("[csv]\ndelimiter = ';;'\n", "single character"),
        ("not toml = = 1", "not valid TOML"),
    ],
)
def test_bad_mapping_says_what_to_fix(ws, tmp_path, toml, message):
    mapping = write(tmp_path / "m.toml", toml)
    with pytest.raises(cxmetrics.MappingError, match=message):
        ws.import_file("tickets", write(tmp_path / "t.csv", HEADER + "\nT1,2025-03-03T08:00:00Z,email,x\n"), mapping=mapping)


def test_mixed_line_endings_fall_back_to_a_tolerant_reader(ws, tmp_path):
    # concatenated exports: LF lines, then CRLF lines, a quoted newline and a ragged row
    text = HEADER + "\nT1,2025-03-03T08:00:00Z,email,a\r\nT2,2025-03-03T08:00:00Z,chat,\"two\nlines\"\r\nT3,oops,chat,c\nT4,x\r\n"
    s = ws.import_file("tickets", write(tmp_path / "mixed.csv", text))
    assert (s.read, s.inserted, s.quarantined) == (4, 2, 2)
    got = {r["line"]: r["reason"] for r in ws.quarantine().to_pylist()}
    assert sorted(got) == [5, 6]
    assert "created_at 'oops'" in got[5] and "fewer fields than the header" in got[6]
    assert rows(ws, "SELECT subject FROM tickets ORDER BY ticket_id") == [("a",), ("two\nlines",)]


def test_gzipped_csv_keeps_its_line_numbers(ws, tmp_path):
    import gzip

    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "\nT1,2025-03-03T08:00:00Z,email,a\nT2,bad,chat,b\n").encode()))
    s = ws.import_file("tickets", path)
    assert (s.read, s.inserted, s.quarantined) == (2, 1, 1)
    assert ws.quarantine().to_pylist()[0]["line"] == 3
