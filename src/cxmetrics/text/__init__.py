"""Text analytics (issue 13): what customers write about, how they feel, and how agents
answer, offline and on the CPU (docs/text.md)."""

from __future__ import annotations

# sentiment (item 2): the function shadows its module's name here, as a user expects
from cxmetrics.text.sentiment import Sentiment, SentimentModel, sentiment, train_sentiment, weak_labels

# topic discovery (items 1 and 6); scikit-learn is imported only when discover() runs
from cxmetrics.text.topics import Topic, Topics, discover
