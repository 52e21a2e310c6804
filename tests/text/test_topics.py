"""Topic discovery on hand-made corpora whose themes are known (issue 13, items 1 and 6):
the themes come back exactly, are named by their words, stay put for a seed, take new texts,
and the CLI prints one topic per input row in input order."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cxmetrics.cli import main
from cxmetrics.errors import MissingDependencyError, UserError

THEMES = {
    "card": ["I lost my card yesterday", "my card was stolen, please block the card", "lost card, what do I do",
             "someone stole my card and wallet", "my bank card is lost, I need to freeze the card"],
    "refund": ["I want a refund for my order", "when will my refund arrive", "refund the payment please",
               "still waiting on the refund you promised", "how long does a refund take to arrive"],
    "password": ["I forgot my password", "reset my password please", "the password reset link does not work",
                 "how do I change my password", "cannot log in, password reset email never came"],
}
# interleaved, so input order and topic order differ
TEXTS = [texts[i] for i in range(5) for texts in THEMES.values()]
TRUTH = [theme for _ in range(5) for theme in THEMES]


def discover(*args, **kwargs):
    from cxmetrics.text import discover as run

    return run(*args, **kwargs)


def _groups(labels: list) -> set[frozenset[int]]:
    """The partition of row numbers the labels make (label values themselves are arbitrary)."""
    groups: dict[object, set[int]] = {}
    for row, label in enumerate(labels):
        groups.setdefault(label, set()).add(row)
    return {frozenset(g) for g in groups.values()}


def test_three_obvious_themes_are_recovered_exactly() -> None:
    found = discover(TEXTS, k=3)
    assert _groups(found.labels) == _groups(TRUTH)
    assert sorted(t.size for t in found.topics) == [5, 5, 5]
    assert [t.id for t in found.topics] == [0, 1, 2]


def test_each_topic_is_named_by_its_theme_word_and_shows_one_of_its_texts() -> None:
    found = discover(TEXTS, k=3)
    for topic in found.topics:
        rows = [r for r, label in enumerate(found.labels) if label == topic.id]
        theme = TRUTH[rows[0]]
        assert theme in topic.name, (theme, topic.name)
        assert topic.words[0] == theme, topic.words
        assert topic.example in THEMES[theme]


def test_same_seed_same_topics() -> None:
    first, again = discover(TEXTS, k=3, seed=7), discover(TEXTS, k=3, seed=7)
    assert first.labels == again.labels
    assert first.topics == again.topics


def test_assign_puts_new_texts_into_the_right_existing_topic() -> None:
    found = discover(TEXTS, k=3)
    topic_of = {TRUTH[r]: label for r, label in enumerate(found.labels)}
    new = ["my card got stolen on the train", "password reset is not working", "I am owed a refund"]
    assert found.assign(new) == [topic_of["card"], topic_of["password"], topic_of["refund"]]
    assert found.assign([]) == []
    assert len(found.topics) == 3  # assigning does not re-cluster


def test_auto_finds_the_three_themes() -> None:
    found = discover(TEXTS, k=None)
    assert found.k == 3
    assert _groups(found.labels) == _groups(TRUTH)
    assert max(found.silhouettes, key=found.silhouettes.get) == 3


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(UserError, match=r"k=20 topics asked for 15 texts: give k at most 15"):
        discover(TEXTS, k=20)
    with pytest.raises(UserError, match="at least 1"):
        discover(TEXTS, k=0)
    with pytest.raises(UserError, match=r"wrap a single text in a list"):
        discover("I lost my card", k=1)
    with pytest.raises(UserError, match="no texts"):
        discover([], k=1)
    with pytest.raises(UserError, match="no words"):
        discover(["", "  ", None], k=1)


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'cxmetrics\[text\]'"):
        discover(TEXTS, k=3)


# --- CLI ---------------------------------------------------------------------------------


def _csv(tmp_path: Path) -> Path:
    import csv

    path = tmp_path / "messages.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "body"])
        writer.writerows((i, text) for i, text in enumerate(TEXTS))
    return path


def test_cli_prints_one_topic_per_row_in_input_order(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["text", "topics", str(_csv(tmp_path)), "--column", "body", "--k", "3"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "row,topic,name"
    rows = [line.split(",", 2) for line in lines[1:]]
    assert [int(r[0]) for r in rows] == list(range(1, len(TEXTS) + 1))
    assert _groups([r[1] for r in rows]) == _groups(TRUTH)
    for (_, topic, name), theme in zip(rows, TRUTH):
        assert theme in name, (topic, name, theme)


def test_cli_json_from_a_jsonl_file(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    path.write_text("".join(json.dumps({"id": i, "body": t}) + "\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    done = CliRunner().invoke(main, ["text", "topics", str(path), "--column", "body", "--k", "3", "--format", "json"])
    assert done.exit_code == 0, done.output
    rows = json.loads(done.output)
    assert [row["row"] for row in rows] == list(range(1, len(TEXTS) + 1))
    assert _groups([row["topic"] for row in rows]) == _groups(TRUTH)
    assert all(theme in row["name"] for row, theme in zip(rows, TRUTH))


def test_cli_table_lists_the_topics_with_size_words_and_example(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["text", "topics", str(_csv(tmp_path)), "--column", "body", "--auto",
                                     "--format", "table"])
    assert done.exit_code == 0, done.output
    assert "--auto picked k=3 topics" in done.output
    body = done.output.splitlines()
    topic_lines = [line for line in body if line.strip()[:1].isdigit()]
    assert len(topic_lines) == 3
    assert all(line.split()[1] == "5" for line in topic_lines)  # size column
    assert sum("e.g. " in line for line in body) == 3
    for theme in THEMES:
        assert any(theme in line for line in topic_lines), theme


def test_cli_missing_column_lists_the_columns(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["text", "topics", str(_csv(tmp_path)), "--column", "text", "--k", "3"])
    assert done.exit_code == 1
    assert "UnknownNameError: Unknown column 'text'" in done.output
    assert "Valid: body, id." in done.output


def test_cli_needs_k_or_auto_and_a_known_format(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    done = CliRunner().invoke(main, ["text", "topics", str(path), "--column", "body"])
    assert done.exit_code == 1 and "either --k N" in done.output
    done = CliRunner().invoke(main, ["text", "topics", str(path), "--column", "body", "--k", "3", "--auto"])
    assert done.exit_code == 1 and "either --k N" in done.output
    other = tmp_path / "messages.xlsx"
    other.write_bytes(b"x")
    done = CliRunner().invoke(main, ["text", "topics", str(other), "--column", "body", "--k", "3"])
    assert done.exit_code == 1 and "name it .csv or .jsonl" in done.output


def test_handles_and_links_do_not_make_topics() -> None:
    # tweets name the company they complain to; the topic is the complaint, not the company
    handles = ["@AlphaAirlines", "@BetaBankUK", "@GammaShopHelp"]
    texts = [f"{handles[(row + len(TRUTH[row])) % 3]} {text} https://t.co/x{row}y" for row, text in enumerate(TEXTS)]
    found = discover(texts, k=3)
    assert _groups(found.labels) == _groups(TRUTH)
    assert not any("alpha" in w or "http" in w for t in found.topics for w in t.words)


def test_contractions_leave_no_words_in_the_names() -> None:
    # the word pattern splits "I've" into "I" and "ve": such leftovers said nothing about a topic
    texts = [f"{t} I've asked, don't know, they didn't say, I'll wait" for t in TEXTS]
    found = discover(texts, k=3)
    assert _groups(found.labels) == _groups(TRUTH)
    leftovers = {"ve", "don", "didn", "ll"}
    assert not any(set(w.split()) & leftovers for t in found.topics for w in t.words), [t.words for t in found.topics]


def test_cli_jsonl_errors_name_the_line_and_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    path.write_text('{"body": "I lost my card"}\n{"body": "refund please"}\n', encoding="utf-8")
    done = CliRunner().invoke(main, ["text", "topics", str(path), "--column", "text", "--k", "1"])
    assert done.exit_code == 1 and "Unknown column 'text'. Valid: body." in done.output
    path.write_text('{"body": "I lost my card"}\nnot json\n', encoding="utf-8")
    done = CliRunner().invoke(main, ["text", "topics", str(path), "--column", "body", "--k", "1"])
    assert done.exit_code == 1 and "messages.jsonl, line 2: not JSON" in done.output
