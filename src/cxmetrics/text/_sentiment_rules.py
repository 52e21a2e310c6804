"""The default sentiment model's word knowledge: a customer-service lexicon written for this
project, laid over the general-purpose VADER lexicon (vendored, MIT; see _sentiment_data/).

Why our own layer: a general lexicon reads "my flight was delayed 3 hours" or "still waiting
for a reply" as nearly neutral and "please help" as positive, while in a message to a support
desk these are the commonest ways to complain. The words below are generic help-desk language
(service failures, waiting, being ignored, being charged, things lost or broken; thanks and
praise), written from how support conversations go, not fitted to any labelled data set.
Valences are on VADER's scale, -4 (worst) .. +4 (best).
"""

from __future__ import annotations

# Single words whose meaning at a support desk differs from general English (or that VADER lacks).
CS_WORDS: dict[str, float] = {
    # service failures: things that did not happen, or happened late or wrong
    "delayed": -2.0, "delay": -1.8, "delays": -1.8, "late": -1.5, "later": 0.0, "overdue": -1.8,
    "cancelled": -2.2, "canceled": -2.2, "cancel": -1.2, "cancellation": -1.5, "cancellations": -1.5,
    "lost": -2.0, "missing": -1.8, "damaged": -2.2, "broken": -2.0, "wrong": -1.8, "error": -1.5,
    "errors": -1.5, "failed": -2.0, "fail": -2.0, "fails": -2.0, "failure": -2.2, "glitch": -1.5,
    "outage": -1.8, "down": -0.6, "crashed": -1.8, "crashing": -1.8, "bug": -1.2, "stuck": -2.0,
    "stranded": -2.5, "missed": -1.5, "overbooked": -2.0, "overcharged": -2.5, "charged": -1.0,
    "fee": -1.0, "fees": -1.2, "refund": -0.8, "compensation": -0.8, "complaint": -1.8,
    "complain": -1.8, "complaints": -1.8, "issue": -1.0, "issues": -1.2, "problem": -1.5,
    "problems": -1.5, "trouble": -1.5, "hold": -1.0, "waiting": -1.5, "waited": -1.8, "wait": -1.0,
    "hrs": -0.8, "hours": -0.8, "hour": -0.5, "days": -0.5, "again": -0.5, "still": -0.8,
    "nobody": -1.5, "unanswered": -2.0, "ignored": -2.2, "ignoring": -2.2, "unhelpful": -2.5,
    "useless": -2.8, "rude": -2.8, "incompetent": -3.0, "unacceptable": -3.0, "ridiculous": -2.5,
    "terrible": -3.0, "horrible": -3.0, "awful": -3.0, "worst": -3.2, "disappointed": -2.5,
    "disappointing": -2.5, "frustrated": -2.5, "frustrating": -2.5, "annoyed": -2.2, "fix": -0.6,
    "sucks": -2.5, "joke": -1.5, "fiasco": -2.5, "mess": -2.0, "disgusted": -3.0, "shame": -2.0,
    "worse": -2.5, "never": -1.0, "hung": -1.5, "disconnected": -1.8, "busy": -1.0,
    "unable": -1.5, "cant": -1.0, "can't": -1.0, "couldn't": -1.0, "couldnt": -1.0, "won't": -0.8,
    "wont": -0.8, "didn't": -0.5, "didnt": -0.5, "doesn't": -0.5, "doesnt": -0.5, "denied": -1.8,
    "refused": -2.0, "sitting": -0.8, "seriously": -1.0, "why": -0.8, "bad": -2.5,
    "rebook": -0.8, "rebooked": -1.0, "excuse": -1.5, "excuses": -1.8, "lack": -1.5, "weeks": -0.5,
    "ugh": -2.0, "smh": -2.0, "wtf": -2.5, "queue": -0.5, "lied": -2.5, "misinformation": -2.0,
    "voicemail": -0.8, "incorrect": -1.8, "mistake": -1.5, "poor": -2.3, "poorly": -2.3,
    # words a general lexicon scores as positive but that ask for something at a support desk
    "help": 0.0, "please": 0.0, "pls": 0.0, "plz": 0.0, "assist": 0.0, "assistance": 0.0,
    "support": 0.0, "service": 0.0, "care": 0.0, "chance": 0.0, "hope": 0.3, "want": 0.0,
    "like": 0.0, "ok": 0.3, "okay": 0.3, "yes": 0.3, "free": 0.5, "credit": 0.0, "reach": 0.0,
    "true": 0.0, "well": 0.0, "pretty": 0.0, "sure": 0.3, "fine": 0.5, "lol": 0.0,
    # thanks and praise
    "thanks": 2.5, "thank": 2.5, "thx": 2.3, "ty": 2.0, "appreciate": 2.5, "appreciated": 2.5,
    "grateful": 2.8, "great": 3.0, "awesome": 3.2, "amazing": 3.3, "excellent": 3.3,
    "wonderful": 3.2, "fantastic": 3.3, "love": 3.0, "loved": 3.0, "loving": 3.0, "best": 3.0,
    "helpful": 2.5, "kudos": 3.0, "friendly": 2.3, "quick": 1.2, "quickly": 1.0, "smooth": 2.0,
    "resolved": 1.5, "perfect": 3.0, "nice": 2.0, "glad": 2.2, "happy": 2.6, "pleased": 2.5,
    "impressed": 2.6, "outstanding": 3.3, "superb": 3.3, "brilliant": 3.0, "cheers": 1.8,
    "courteous": 2.5, "professional": 1.8, "efficient": 2.0, "fast": 1.2, "easy": 1.5,
}

# Phrases matched on the lower-cased, space-joined tokens before single words (they replace
# the words they span): fixed expressions of waiting, being ignored, and of thanks.
CS_PHRASES: dict[str, float] = {
    "still waiting": -2.5, "still no": -2.2, "still not": -2.2, "on hold": -2.0,
    "no response": -2.5, "no reply": -2.5, "no answer": -2.3, "no one": -1.8, "no help": -2.5,
    "not helpful": -2.5, "not happy": -2.6, "not good": -2.2, "not ok": -2.0, "no way": -1.5,
    "never again": -3.0, "never received": -2.5, "never got": -2.2, "never arrived": -2.5,
    "hung up": -2.2, "waste of time": -3.0, "waste of money": -3.0, "customer service": 0.0,
    "thank you": 2.8, "thanks so much": 3.2, "thank you so much": 3.3, "many thanks": 3.0,
    "much appreciated": 3.0, "well done": 2.8, "great job": 3.2, "good job": 2.8,
    "going above and beyond": 3.3, "above and beyond": 3.3, "made my day": 3.2,
    "customer for life": 3.0, "no problem": 1.0, "no worries": 1.2, "no issues": 1.5,
    "lost luggage": -2.5, "lost bag": -2.5, "lost my": -2.5, "missed my": -2.2,
    "missed connection": -2.5, "what a joke": -2.8, "fed up": -2.8, "sort it out": -1.5,
    "thanks for nothing": -3.0, "yet again": -2.0, "every time": -1.0, "no longer": -1.0,
    "the worst": -3.2, "so bad": -3.0, "not working": -2.2, "doesn't work": -2.2,
    "does not work": -2.2, "didn't work": -2.2, "not work": -2.0, "how long": -1.2,
}
PHRASE_MAX_WORDS = max(len(p.split()) for p in CS_PHRASES)

# Negativity bias: a message that reports a real failure (a word at or below this valence) is
# a complaint even when it is polite, so its positive words ("thanks", often sarcastic in such
# messages) count at this weight.
FAILURE_VALENCE, POSITIVE_IN_COMPLAINT = -1.5, 0.5

# A negator flips the valence of the next few words (VADER's factor: a negated word keeps
# about three quarters of its strength, reversed).
NEGATORS = frozenset({
    "not", "no", "never", "isn't", "isnt", "wasn't", "wasnt", "aren't", "arent", "don't", "dont",
    "didn't", "didnt", "doesn't", "doesnt", "can't", "cant", "cannot", "couldn't", "couldnt",
    "won't", "wont", "wouldn't", "wouldnt", "nothing", "nobody", "none", "neither", "nor",
    "without", "haven't", "havent", "hasn't", "hasnt", "hadn't", "hadnt", "ain't", "aint",
})
NEGATION_SCOPE = 3
NEGATION_FACTOR = -0.74

# Intensifiers and dampeners multiply the next sentiment-bearing word.
BOOSTERS: dict[str, float] = {
    "very": 1.3, "so": 1.3, "really": 1.3, "extremely": 1.5, "totally": 1.3, "absolutely": 1.4,
    "completely": 1.3, "super": 1.3, "incredibly": 1.5, "truly": 1.3, "most": 1.2, "too": 1.2,
    "such": 1.2, "ever": 1.2, "utterly": 1.5, "bit": 0.7, "slightly": 0.6, "somewhat": 0.7,
    "kinda": 0.7, "kind": 0.8, "little": 0.8, "barely": 0.6,
}

# A clause after a contrast word carries the writer's point ("the crew was nice but we sat
# 3 hours on the tarmac"): the words before it count less, the words after it more.
CONTRASTS = frozenset({"but", "however", "although", "though", "yet"})
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5

# Common emoticons (the VADER lexicon has more; emoji are read from their names below).
EMOJI: dict[str, float] = {
    "😀": 2.5, "😃": 2.5, "😄": 2.5, "😁": 2.5, "😊": 2.5, "🙂": 1.5, "😍": 3.0, "🥰": 3.0,
    "😘": 2.5, "❤": 3.0, "❤️": 3.0, "💕": 3.0, "💙": 2.5, "💜": 2.5, "💚": 2.5, "👍": 2.0,
    "👏": 2.5, "🙌": 2.5, "🙏": 1.5, "😎": 2.0, "🎉": 2.5, "✈": 0.0, "✈️": 0.0, "😂": 0.5,
    "😉": 1.5, "✔": 1.0, "✅": 1.5, "⭐": 2.0, "🌟": 2.0, "😭": -2.5, "😢": -2.5, "😞": -2.5,
    "😔": -2.0, "😒": -2.0, "😠": -3.0, "😡": -3.0, "🤬": -3.2, "👎": -2.5, "😤": -2.5,
    "😩": -2.5, "😫": -2.5, "😖": -2.5, "😣": -2.0, "🙄": -2.0, "😑": -1.5, "😐": -0.5,
    "😕": -1.5, "🙁": -1.8, "☹": -2.0, "☹️": -2.0, "💔": -2.5, "😬": -1.0, "😱": -2.0,
}
