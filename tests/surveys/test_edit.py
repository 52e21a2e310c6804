"""Survey definitions from the CLI (issue 16, item 1): `surveys list/show/add/remove/check`
edit surveys.toml with tomlkit, keeping its comments and order, refuse a bad definition with
the configuration's own message (the file untouched), and write atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cxmetrics.cli import main
from cxmetrics.surveys import SurveysConfig, SurveysConfigError
from cxmetrics.surveys._edit import definition_dict, put_survey, remove_survey, set_settings

WRITTEN = """# Acme's surveys: keep this comment
throttle = "14d"   # two weeks between surveys

[branding]
name = "Acme"

# the one after every solve
[[surveys]]
name = "csat"
kind = "csat"
delay = "1h"  # an hour after the solve

# relationship NPS, every quarter
[[surveys]]
name = "nps"
kind = "nps"
trigger = "relationship"
every = "90d"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "surveys.toml").write_text(WRITTEN, encoding="utf-8")
    return tmp_path


def cli(folder: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["--workspace", str(folder), "surveys", *args])
    return r.exit_code, r.output


def test_replacing_a_definition_keeps_comments_order_and_other_blocks(folder: Path) -> None:
    s = put_survey(folder, {"name": "csat", "kind": "csat", "delay": "2h", "where": {"channel": ["email", "chat"]}})
    assert (s.delay_s, s.where) == (7200.0, {"channel": ("email", "chat")})
    text = (folder / "surveys.toml").read_text()
    # every comment is still there, the changed key kept its line and comment, csat stays first
    for comment in ("# Acme's surveys: keep this comment", "# two weeks between surveys", "# the one after every solve",
                    "# an hour after the solve", "# relationship NPS, every quarter"):
        assert comment in text, comment
    assert 'delay = "2h"  # an hour after the solve' in text
    assert text.index('name = "csat"') < text.index('name = "nps"')
    # the new key sits in csat's block, above the comment that introduces the next block
    assert text.index('where = {channel = ["email", "chat"]}') < text.index("# relationship NPS")
    assert [x.name for x in SurveysConfig.load(folder).surveys] == ["csat", "nps"]


def test_adding_appends_a_block_and_removing_takes_only_it(folder: Path) -> None:
    put_survey(folder, {"name": "ces", "kind": "ces", "reminder": "3d"})
    assert [x.name for x in SurveysConfig.load(folder).surveys] == ["csat", "nps", "ces"]
    assert SurveysConfig.load(folder).survey("ces").reminder_s == 3 * 86400
    remove_survey(folder, "nps")
    text = (folder / "surveys.toml").read_text()
    assert [x.name for x in SurveysConfig.load(folder).surveys] == ["csat", "ces"]
    assert "# Acme's surveys: keep this comment" in text and 'throttle = "14d"' in text


def test_a_bad_definition_is_refused_with_the_configs_message_and_the_file_untouched(folder: Path) -> None:
    before = (folder / "surveys.toml").read_bytes()
    with pytest.raises(SurveysConfigError, match="scale '1-5' is not offered for nps; use 0-10"):
        put_survey(folder, {"name": "nps2", "kind": "nps", "scale": "1-5"})
    with pytest.raises(SurveysConfigError, match="a relationship survey needs every"):
        put_survey(folder, {"name": "nps", "kind": "nps", "trigger": "relationship"})
    with pytest.raises(SurveysConfigError, match="unknown key 'delai'. Did you mean 'delay'"):
        put_survey(folder, {"name": "x", "kind": "csat", "delai": "1h"})
    with pytest.raises(SurveysConfigError, match="'30 minutes' is not a duration"):
        set_settings(folder, {"throttle": "30 minutes"})
    assert (folder / "surveys.toml").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["surveys.toml"]  # no temporary file left


def test_removing_an_unknown_survey_names_the_nearest(folder: Path) -> None:
    with pytest.raises(SurveysConfigError, match="no survey 'csta'.*Did you mean 'csat'"):
        remove_survey(folder, "csta")


def test_settings_go_above_the_survey_blocks(folder: Path) -> None:
    cfg = set_settings(folder, {"base_url": "https://cx.example.com", "throttle": "3d",
                                "email": {"host": "smtp.example.com", "from": "Acme <cx@acme.example>"}})
    assert (cfg.base_url, cfg.throttle_s, cfg.email.host) == ("https://cx.example.com", 3 * 86400.0, "smtp.example.com")
    text = (folder / "surveys.toml").read_text()
    assert 'throttle = "3d"   # two weeks between surveys' in text  # in place, comment kept
    assert text.index("base_url") < text.index("[branding]") and text.index("[email]") < text.index("[[surveys]]")
    cfg = set_settings(folder, {"base_url": None})
    assert cfg.base_url is None and "base_url" not in (folder / "surveys.toml").read_text()
    with pytest.raises(SurveysConfigError, match="'surveys' is not a setting"):
        set_settings(folder, {"surveys": []})


def test_a_new_file_is_made_and_the_definition_round_trips(tmp_path: Path) -> None:
    s = put_survey(tmp_path, {"name": "csat", "kind": "csat", "question": {"en": "How did we do?", "de": "Wie war's?"},
                              "where": {"team": ["Billing"]}, "include_bot_solved": True})
    d = definition_dict(s)
    assert d["question"] == {"en": "How did we do?", "de": "Wie war's?"} and d["delay"] == 3600.0
    # what definition_dict gives, put_survey takes back unchanged (the API's GET then PUT)
    assert put_survey(tmp_path, d) == s


def test_the_write_is_atomic(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the new text goes to a temporary file that is renamed over the old: if writing fails,
    # the old file is whole and no temporary file is left behind
    before = (folder / "surveys.toml").read_bytes()

    def broken(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        put_survey(folder, {"name": "ces", "kind": "ces"})
    assert (folder / "surveys.toml").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["surveys.toml"]


def test_cli_add_list_show_remove(tmp_path: Path) -> None:
    code, out = cli(tmp_path, "list")
    assert code == 0 and "no surveys defined" in out
    code, out = cli(tmp_path, "add", "csat", "--kind", "csat", "--delay", "2h", "--reminder", "3d",
                    "--where", "channel=email,chat", "--where", "team=Billing")
    assert code == 0, out
    assert "added csat" in out and "2h after a ticket is solved" in out and "channel in email, chat" in out
    code, out = cli(tmp_path, "add", "nps", "--kind", "nps", "--trigger", "relationship", "--every", "90d",
                    "--segment", "tier=pro", "--question", "Würden Sie uns empfehlen?", "--language", "de",
                    "--disabled")
    assert code == 0, out
    s = SurveysConfig.load(tmp_path).survey("nps")
    assert (s.question, s.segment, s.enabled, s.every_s) == ({"de": "Würden Sie uns empfehlen?"}, {"tier": ("pro",)},
                                                             False, 90 * 86400.0)
    code, out = cli(tmp_path, "list")
    assert out.splitlines() == [
        "csat: csat 1-5, 2h after a ticket is solved; tickets where channel in email, chat and team in Billing, "
        "not solved by a bot alone; reminder after 3d",
        "nps (disabled): nps 0-10, every 90d to each customer; customers where tier in pro"]
    code, out = cli(tmp_path, "show", "csat")
    assert code == 0 and "reminder           3d" in out
    assert "where              channel = email, chat; team = Billing" in out
    code, out = cli(tmp_path, "remove", "nps")
    assert code == 0 and "surveys left: csat" in out


def test_cli_errors_name_the_value_and_the_fix(tmp_path: Path) -> None:
    cli(tmp_path, "add", "csat", "--kind", "csat")
    code, out = cli(tmp_path, "add", "csat", "--kind", "csat")
    assert code == 1 and out.startswith("SurveysConfigError: survey 'csat' is already defined") and "--replace" in out
    code, out = cli(tmp_path, "add", "csat", "--kind", "csat", "--delay", "30m", "--replace")
    assert code == 0 and "replaced csat" in out and SurveysConfig.load(tmp_path).survey("csat").delay_s == 1800
    code, out = cli(tmp_path, "add", "x", "--kind", "csat", "--where", "chanel=email")
    assert code == 1 and "'chanel' cannot be used here. Did you mean 'channel'?" in out
    code, out = cli(tmp_path, "add", "x", "--kind", "csat", "--where", "channel")
    assert code == 1 and "--where 'channel' is not NAME=VALUE" in out
    code, out = cli(tmp_path, "show", "csta")
    assert code == 1 and "SurveysConfigError: no survey 'csta' in surveys.toml. Did you mean 'csat'?" in out
    assert [x.name for x in SurveysConfig.load(tmp_path).surveys] == ["csat"]


def test_check_says_what_goes_where_and_what_is_wrong(tmp_path: Path, smtp, monkeypatch) -> None:  # noqa: ANN001
    cli(tmp_path, "add", "csat", "--kind", "csat", "--delay", "2h")
    code, out = cli(tmp_path, "check")
    assert code == 1 and "no [email] table, so csat cannot be e-mailed" in out
    (tmp_path / "logo.png").write_bytes(b"not an image")
    # half a login is refused when written (the file is left as it was)
    with pytest.raises(SurveysConfigError, match="both username_env and password_env"):
        set_settings(tmp_path, {"email": {**smtp.email_settings(), "username_env": "CXM_TEST_SMTP_USER"}})
    set_settings(tmp_path, {"branding": {"name": "Acme", "logo": "logo.png"},
                            "email": {**smtp.email_settings(), "username_env": "CXM_TEST_SMTP_USER",
                                      "password_env": "CXM_TEST_SMTP_PASSWORD"}})
    monkeypatch.delenv("CXM_TEST_SMTP_USER", raising=False)
    monkeypatch.setenv("CXM_TEST_SMTP_PASSWORD", "secret")
    code, out = cli(tmp_path, "check", "--connect")
    assert code == 1
    assert "logo 'logo.png' is not a PNG, JPEG or GIF image" in out
    assert "CXM_TEST_SMTP_USER, which is not set here" in out
    assert "SMTP server answered" in out
    assert "- csat: csat 1-5, 2h after a ticket is solved, by e-mail via 127.0.0.1" in out
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    monkeypatch.setenv("CXM_TEST_SMTP_USER", "someone")
    code, out = cli(tmp_path, "check", "--connect")
    assert code == 0 and out.rstrip().endswith("ok") and "logo logo.png (108 bytes)" in out
    assert smtp.messages == []  # a check sends nothing
