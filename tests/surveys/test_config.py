"""surveys.toml: what it means, and errors that name the key and the fix (issue 16, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxmetrics.surveys import SurveysConfig, SurveysConfigError, Trigger, load_config


def _error(data: dict) -> str:
    with pytest.raises(SurveysConfigError) as err:
        SurveysConfig.from_dict(data)
    return str(err.value)


def test_defaults_are_the_documented_ones() -> None:
    cfg = SurveysConfig.from_dict({"surveys": [{"name": "csat", "kind": "csat"}, {"name": "e", "kind": "ces"},
                                               {"name": "n", "kind": "nps", "trigger": "relationship",
                                                "every": "90d"}]})
    assert (cfg.throttle_s, cfg.token_ttl_s, cfg.edit_window_s) == (7 * 86400, 30 * 86400, 7 * 86400)
    assert [s.scale for s in cfg.surveys] == ["1-5", "1-7", "0-10"]
    assert [s.scale_range for s in cfg.surveys] == [(1, 5), (1, 7), (0, 10)]
    csat = cfg.survey("csat")
    assert (csat.trigger, csat.delay_s, csat.reminder_s, csat.include_bot_solved) == (Trigger.SOLVED, 3600, None, False)
    assert cfg.survey("n").every_s == 90 * 86400
    good_bad = SurveysConfig.from_dict({"surveys": [{"name": "g", "kind": "csat", "scale": "good/bad"}]})
    assert good_bad.surveys[0].scale_range == (0, 1)


@pytest.mark.parametrize(("data", "says"), [
    ({"surveys": [{"name": "x", "kind": "csat", "delya": "2h"}]}, "unknown key 'delya'. Did you mean 'delay'?"),
    ({"surveys": [{"name": "x", "kind": "csat", "scale": "0-10"}]}, "scale '0-10' is not offered for csat; use 1-5 or good/bad"),
    ({"surveys": [{"name": "x", "kind": "happiness"}]}, "'happiness' is not a survey kind"),
    ({"surveys": [{"name": "X Y", "kind": "csat"}]}, "'X Y' is not a survey name"),
    ({"surveys": [{"name": "x", "kind": "nps", "trigger": "relationship"}]}, "needs every"),
    ({"surveys": [{"name": "x", "kind": "csat", "where": {"chanel": ["email"]}}]}, "Did you mean 'channel'?"),
    ({"surveys": [{"name": "x", "kind": "csat"}, {"name": "x", "kind": "ces"}]}, "'x' is used twice"),
    ({"throttle": "a week"}, "throttle: 'a week' is not a duration"),
    ({"languages": ["en", "xx"]}, "'xx' is not a language with a translation"),
    ({"branding": {"colour": "blue"}}, "'blue' is not a colour"),
    ({"email": {"host": "smtp.example.com"}}, "[email] needs from"),
    ({"email": {"host": "h", "from": "a@b.c", "username_env": "U"}}, "both username_env and password_env"),
    ({"email": {"destination": "ops", "host": "h"}}, "either destination"),
    ({"base_url": "cx.example.com"}, "must start with http:// or https://"),
])
def test_a_mistake_names_the_key_and_the_fix(data: dict, says: str) -> None:
    assert says in _error(data)


def test_the_language_follows_the_customers_locale() -> None:
    cfg = SurveysConfig.from_dict({"languages": ["en", "de", "fr"], "default_language": "en"})
    assert [cfg.language_for(x) for x in ("de-AT", "fr_CA", "FR", "es", None, "")] == ["de", "fr", "fr", "en", "en", "en"]


def test_the_logo_must_be_a_small_image_in_the_workspace(tmp_path: Path) -> None:
    cfg = SurveysConfig.from_dict({"branding": {"logo": "logo.png"}})
    with pytest.raises(SurveysConfigError, match="not a file"):
        cfg.logo_path(tmp_path)
    (tmp_path / "logo.png").write_bytes(b"<svg onload=alert(1)>")
    with pytest.raises(SurveysConfigError, match="not a PNG, JPEG or GIF"):
        cfg.logo_path(tmp_path)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (300 * 1024))
    with pytest.raises(SurveysConfigError, match="over 200 KB"):
        cfg.logo_path(tmp_path)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert cfg.logo_path(tmp_path) == tmp_path / "logo.png"


def test_an_edit_to_the_file_is_read_without_a_restart(tmp_path: Path) -> None:
    assert load_config(tmp_path).surveys == ()
    (tmp_path / "surveys.toml").write_text('[[surveys]]\nname = "csat"\nkind = "csat"\n')
    assert [s.name for s in load_config(tmp_path).surveys] == ["csat"]
    (tmp_path / "surveys.toml").write_text('[[surveys]]\nname = "csat2"\nkind = "csat"\ndelay = "2h"\n')
    assert [(s.name, s.delay_s) for s in load_config(tmp_path).surveys] == [("csat2", 7200)]
    (tmp_path / "surveys.toml").write_text("[[surveys]\n")
    with pytest.raises(SurveysConfigError, match="not valid TOML"):
        load_config(tmp_path)
