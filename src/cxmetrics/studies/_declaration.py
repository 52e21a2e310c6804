"""The SPI's declaration: weights, response-time curves and text-signal fallbacks, from
`spi.yaml` beside this module, with a study's overrides from the workspace's `studies.toml`.

    [organisation]                 # optional: the organisation's own row (spi(own=True))
    name = "Acme"                  # default "us"
    industry = "retail"            # region, size too: its group when scores are cut by them

    [studies.NAME.weights]         # any of the seven components
    speed = 30
    [studies.NAME.curves.chat]     # fast and/or slow: a duration (45s, 30m, 4h, 1d) or seconds
    fast = "30s"
    [studies.NAME.text_signals]
    thorough = "thorough"

>>> d = declaration()
>>> d.weights["speed"], d.curves["chat"]
(20.0, (60.0, 600.0))
>>> round(d.speed("chat", 60.0)), round(d.speed("chat", 600.0)), round(d.speed("chat", 189.7))
(100, 0, 50)
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any


from cxmetrics import _yaml
from cxmetrics.errors import SettingsError
from cxmetrics.sla._policy import format_duration, parse_duration

STUDIES_FILE = "studies.toml"
COMPONENTS = ("availability", "responsiveness", "speed", "personalised", "relevant", "thorough", "empathetic")
CRITERIA = ("personalised", "relevant", "thorough", "empathetic")
# the signals of cxmetrics.text.signals.ReplySignals a criterion may fall back on
SIGNALS = ("personalised", "greets_by_name", "refers_specifics", "empathetic", "relevant", "thorough",
           "answered_share")
OTHER = "other"  # the curve of a channel the declaration does not name
OWN_DEFAULT = "us"


@dataclass(frozen=True)
class Organisation:
    """The organisation's own row in a study's table (`spi(own=True)`)."""

    name: str = OWN_DEFAULT
    industry: str | None = None
    region: str | None = None
    size: str | None = None


@dataclass(frozen=True)
class SpiDeclaration:
    """How the SPI is computed: `weights` per component, `curves` per channel as
    (fast_s, slow_s), `text_signals` per criterion; `study` names the study whose overrides
    were applied (None: the shipped defaults), `overridden` the keys a study changed."""

    weights: dict[str, float]
    curves: dict[str, tuple[float, float]]
    text_signals: dict[str, str]
    study: str | None = None
    overridden: tuple[str, ...] = ()
    organisation: Organisation = field(default_factory=Organisation)

    def curve(self, channel: str) -> tuple[float, float]:
        """The (fast, slow) seconds of a channel; the `other` curve for one not named."""
        return self.curves.get(channel, self.curves[OTHER])

    def speed(self, channel: str, seconds: float) -> float:
        """The speed score 0-100 of an answer after `seconds` on `channel`: 100 at or under
        fast, 0 at or over slow, linear in log(seconds) between."""
        fast, slow = self.curve(channel)
        if seconds <= fast:
            return 100.0
        if seconds >= slow:
            return 0.0
        return 100.0 * (math.log(slow) - math.log(seconds)) / (math.log(slow) - math.log(fast))

    def as_dict(self) -> dict[str, Any]:
        """The declaration as plain data (shown with every score: JSON, the CLI's footer)."""
        return {
            "study": self.study,
            "weights": dict(self.weights),
            "curves": {ch: {"fast_s": f, "slow_s": s, "fast": format_duration(f), "slow": format_duration(s)}
                       for ch, (f, s) in self.curves.items()},
            "text_signals": dict(self.text_signals),
            "overridden": list(self.overridden),
            "organisation": {"name": self.organisation.name, "industry": self.organisation.industry,
                             "region": self.organisation.region, "size": self.organisation.size},
        }

    def footer(self) -> str:
        """One line: the weights and curves a table was computed with."""
        weights = ", ".join(f"{k} {v:g}" for k, v in self.weights.items())
        curves = ", ".join(f"{ch} {format_duration(f)}-{format_duration(s)}" for ch, (f, s) in self.curves.items())
        extra = f"; {self.study} overrides {', '.join(self.overridden)}" if self.overridden else ""
        return f"SPI weights: {weights}. Speed curves (100 at fast, 0 at slow): {curves}{extra}."


def _shipped() -> SpiDeclaration:
    text = resources.files("cxmetrics.studies").joinpath("spi.yaml").read_text(encoding="utf-8")
    data = _yaml.safe_load(text)
    base = SpiDeclaration({}, {OTHER: (3600.0, 86400.0)}, {})
    found = _apply(base, data, "spi.yaml")
    missing = [c for c in COMPONENTS if c not in found.weights] + [c for c in CRITERIA if c not in found.text_signals]
    if missing:  # pragma: no cover - the shipped file is checked by the tests
        raise SettingsError(f"spi.yaml does not declare {', '.join(missing)}.")
    curves = {ch: v for ch, v in found.curves.items() if ch != OTHER} | {OTHER: found.curves[OTHER]}
    # the shipped values are the base, not overrides
    return replace(found, weights={c: found.weights[c] for c in COMPONENTS}, curves=curves, overridden=())


def _apply(base: SpiDeclaration, data: Any, where: str) -> SpiDeclaration:
    """`base` with the weights, curves and text_signals of `data` (one study's table)."""
    if not isinstance(data, dict):
        raise SettingsError(f"{where} must be a table with weights, curves and/or text_signals.")
    unknown = sorted(set(data) - {"weights", "curves", "text_signals"})
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)}; known: weights, curves, text_signals.")
    weights, curves, signals = dict(base.weights), dict(base.curves), dict(base.text_signals)
    changed: list[str] = list(base.overridden)
    for name, value in _table(data.get("weights", {}), f"{where}: weights").items():
        if name not in COMPONENTS:
            raise SettingsError(f"{where}: weights.{name} is not a component of the SPI.{_hint(name, COMPONENTS)} "
                                f"Known: {', '.join(COMPONENTS)}.")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise SettingsError(f"{where}: weights.{name} = {value!r} must be a number of 0 or more, such as 20.")
        weights[name] = float(value)
        changed.append(f"weights.{name}")
    if weights and sum(weights.values()) <= 0:
        raise SettingsError(f"{where}: the weights add up to 0; give at least one component a weight above 0.")
    for channel, curve in _table(data.get("curves", {}), f"{where}: curves").items():
        spec = _table(curve, f"{where}: curves.{channel}")
        bad = sorted(set(spec) - {"fast", "slow"})
        if bad:
            raise SettingsError(f"{where}: curves.{channel} has unknown key(s) {', '.join(bad)}; known: fast, slow.")
        fast, slow = curves.get(channel.lower(), curves[OTHER])
        if "fast" in spec:
            fast = _seconds(spec["fast"], f"{where}: curves.{channel}.fast")
        if "slow" in spec:
            slow = _seconds(spec["slow"], f"{where}: curves.{channel}.slow")
        if not 0 < fast < slow:
            raise SettingsError(f"{where}: curves.{channel} has fast {format_duration(fast)} and slow "
                                f"{format_duration(slow)}: fast must be above 0 and below slow.")
        curves[channel.lower()] = (fast, slow)
        changed.append(f"curves.{channel.lower()}")
    for criterion, signal in _table(data.get("text_signals", {}), f"{where}: text_signals").items():
        if criterion not in CRITERIA:
            raise SettingsError(f"{where}: text_signals.{criterion} is not a criterion.{_hint(criterion, CRITERIA)} "
                                f"Known: {', '.join(CRITERIA)}.")
        if signal not in SIGNALS:
            raise SettingsError(f"{where}: text_signals.{criterion} = {signal!r} is not a signal."
                                f"{_hint(str(signal), SIGNALS)} Known: {', '.join(SIGNALS)}.")
        signals[criterion] = signal
        changed.append(f"text_signals.{criterion}")
    return replace(base, weights=weights, curves=curves, text_signals=signals, overridden=tuple(changed))


def _hint(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a table (name = value).")
    return value


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise SettingsError(f"{where} = {value!r} is not a duration; write it like '45s', '30m', '4h' or '1d'.")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        try:
            seconds = parse_duration(str(value))
        except ValueError:
            raise SettingsError(f"{where} = {value!r} is not a duration; write it like '45s', '30m', '4h' or '1d' "
                                "(or a number of seconds).") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"{where} = {value!r} must be a duration above 0.")
    return seconds


SHIPPED = _shipped()


def load_studies_file(path: Path) -> dict[str, Any]:
    """The workspace's studies.toml as data ({} without one); SettingsError when unreadable."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"studies", "organisation"})
    if unknown:
        raise SettingsError(f"{path}: unknown key(s) {', '.join(unknown)}; known: [organisation], [studies.NAME].")
    return data


def _organisation(data: dict[str, Any], path: Path) -> Organisation:
    org = _table(data.get("organisation", {}), f"{path}: organisation")
    known = {"name", "industry", "region", "size"}
    bad = sorted(set(org) - known)
    if bad:
        raise SettingsError(f"{path}: organisation has unknown key(s) {', '.join(bad)}; "
                            f"known: {', '.join(sorted(known))}.")
    for k, v in org.items():
        if not isinstance(v, str) or not v.strip():
            raise SettingsError(f"{path}: organisation.{k} = {v!r} must be a non-empty text.")
    return Organisation(**{k: v.strip() for k, v in org.items()})


def declaration(ws: Any = None, study: str | None = None) -> SpiDeclaration:
    """The SPI declaration: the shipped `spi.yaml`, with `study`'s overrides from the
    workspace's studies.toml when both are given (and the [organisation] table of the file)."""
    if ws is None:
        return replace(SHIPPED, study=study)
    path = Path(ws.path) / STUDIES_FILE
    data = load_studies_file(path)
    found = replace(SHIPPED, study=study, organisation=_organisation(data, path))
    studies = _table(data.get("studies", {}), f"{path}: studies")
    for name, table in studies.items():
        _apply(SHIPPED, table, f"{path}: studies.{name}")  # every study's table is checked, not only this one's
    if study is not None and study in studies:
        found = _apply(found, studies[study], f"{path}: studies.{study}")
    return found
