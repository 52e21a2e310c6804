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
from cxmetrics.surveys._collect import AnswerError, AnswerProblem, SendView, record, view
from cxmetrics.surveys._edit import put_survey, remove_survey, set_settings
from cxmetrics.surveys._embed import EmbedError, snippet
from cxmetrics.surveys._scheduler import SurveyScheduler
from cxmetrics.surveys._sends import (
    LinkInfo,
    RunReport,
    SendError,
    create_send,
    link,
    preview,
    recent_sends,
    run,
    send_now,
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
    "AnswerError",
    "AnswerProblem",
    "Branding",
    "CONFIG_FILE",
    "Claims",
    "EmailSettings",
    "EmbedError",
    "LANGUAGES",
    "LinkInfo",
    "RunReport",
    "SendError",
    "SendView",
    "Survey",
    "SurveyScheduler",
    "SurveysConfig",
    "SurveysConfigError",
    "TokenError",
    "TokenProblem",
    "Trigger",
    "create_send",
    "link",
    "load_config",
    "make_token",
    "preview",
    "put_survey",
    "recent_sends",
    "record",
    "remove_survey",
    "rotate_key",
    "run",
    "send_id",
    "send_now",
    "set_settings",
    "snippet",
    "survey_url",
    "verify_token",
    "view",
]
