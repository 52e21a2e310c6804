"""Text analytics (issue 13): what customers write about, how they feel, and how agents
answer, offline and on the CPU (docs/text.md)."""

from __future__ import annotations

# sentiment (item 2): the function shadows its module's name here, as a user expects
from cxmetrics.text.sentiment import Sentiment, SentimentModel, sentiment, train_sentiment, weak_labels

# topic discovery (items 1 and 6); scikit-learn is imported only when discover() runs
from cxmetrics.text.topics import Topic, Topics, discover

# topics in the workspace (item 1): discover_tickets(ws, k) keeps the model and gives every
# ticket its discovered_topic; new tickets are assigned at every refresh
from cxmetrics.text._topics_workspace import Discovery, WorkspaceTopic, discover_tickets
from cxmetrics.text._topics_refit import TopicChange

# consistency of resolutions (item 3): each answer against its topic's usual answer; the
# function shadows its module's name here, as sentiment does
from cxmetrics.text.consistency import Answer, consistency

# the text facts in the workspace: refresh(ws, full=False) brings them up to date; the
# workspace's own sentiment model (kept in it, used for every customer message from then on)
from cxmetrics.text._sentiment_workspace import keep_sentiment_model, survey_comments, use_default_sentiment
from cxmetrics.text._status import TextStatus, status
from cxmetrics.text._store import TextRefresh
from cxmetrics.text._store import refresh_text as refresh

# the signals of a good answer (item 4): numpy and pyarrow only
from cxmetrics.text.signals import ReplySignals, signals
