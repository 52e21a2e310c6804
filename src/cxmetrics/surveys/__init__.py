"""Survey collection: send CSAT, CES and NPS surveys and collect the answers.

Definitions live in the workspace's `surveys.toml`; the server sends what is due (after a
solve, every N days to a segment, on demand), e-mails one-click rating links through the
alerts' SMTP settings, and serves the survey page at `/s/TOKEN` (signed, expiring links;
no key needed). Every send is a `survey_sends` row and every answer a `surveys` row, so
the registry's CSAT, NPS and response rate include them at once. See docs/surveys.md.

>>> from cxmetrics.surveys import SurveysConfig
>>> SurveysConfig.from_dict({"surveys": [{"name": "nps", "kind": "nps", "trigger": "relationship",
...                                        "every": "90d"}]}).survey("nps").scale
'0-10'
"""

from __future__ import annotations

from cxmetrics.surveys._config import (
    CONFIG_FILE,
    LANGUAGES,
    Branding,
    EmailSettings,
    Survey,
    SurveysConfig,
    SurveysConfigError,
    Trigger,
    load_config,
)
from cxmetrics.surveys._tokens import (
    Claims,
    TokenError,
    TokenProblem,
    make_token,
    rotate_key,
    send_id,
    survey_url,
    verify_token,
)

__all__ = [  # noqa: RUF022 - plainly sorted, as test_exported_members wants
    "Branding",
    "CONFIG_FILE",
    "Claims",
    "EmailSettings",
    "LANGUAGES",
    "Survey",
    "SurveysConfig",
    "SurveysConfigError",
    "TokenError",
    "TokenProblem",
    "Trigger",
    "load_config",
    "make_token",
    "rotate_key",
    "send_id",
    "survey_url",
    "verify_token",
]
