"""The phrase rules behind the signals of a good answer (docs/text.md, "Signals of a good
answer"): greetings by name, empathy, the questions a customer asked and the specifics
(numbers, amounts, dates) they gave. Each function reads one text with a few regular
expressions; cxmetrics.text.signals applies them to lists of texts. English only.
"""

from __future__ import annotations

import re

# -- words ---------------------------------------------------------------------------------------

# English function words, contraction leftovers and the politeness every message carries: they
# say nothing about what a message is about, so no signal counts them
STOP_WORDS = frozenset("""
a about above after again against all am an and any are aren as at be because been before being below
between both but by can cannot could couldn did didn do does doesn doing don down during each few for from
further had hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn
it its itself just let ll me more most much must my myself no nor not now of off on once only or other ought
our ours ourselves out over own re same shall she should shouldn so some such than that the their theirs them
themselves then there these they this those through to too under until up upon us ve very was wasn we were
weren what when where which while who whom whose why will with won would wouldn you your yours yourself
yourselves also already yet still even ever every may might im ive id youre dont cant wont isnt thats its
hi hello hey hiya dear thanks thank thx please pls regards best cheers sincerely kind kindly sorry apologies
apologise apologize hope ok okay yes yeah oh well sir madam mr mrs ms team guys everyone
""".split())

# verbs and vague words a question is made of ("can I change...", "how do I get...") rather than
# what it is about: a reply sharing only these has not answered it
VAGUE_WORDS = frozenset("""
get got getting make made making want wanted need needs needed know knew known tell told see seen saw
go going gone went take took use used using try tried trying give gave work works worked working find found
change changed changing like would happen happened happens way thing things something anything nothing
one two new able possible help helping problem problems issue issues question questions time today now
""".split())

# the help desk's everyday nouns: naming them is not naming the customer's specifics
SERVICE_WORDS = frozenset("""
order orders account accounts password email emails refund refunds payment payments pay paid charge charged
delivery deliver delivered shipping shipment package parcel item items product products service support
ticket request requests customer customers app website site card money price cost fee subscription plan
login log sign message messages reply response contact call phone number details information info update
""".split())

# -- greetings ----------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^.?!\n]+(?:[.?!]+|\n|$)")  # a sentence or a line, with its end

_GREETING = re.compile(
    r"^[\W_]*(?:hi|hello|hey|hiya|heya|howdy|greetings|dear|good\s+(?:morning|afternoon|evening|day))\b"
    r"[ \t]*(?P<comma>[,!:]?)[ \t]*(?P<rest>[^\n]*)", re.I)
_TITLE = re.compile(r"(?:mr|mrs|ms|miss|mx|dr|prof|sir|madam)\b\.?[ \t]*", re.I)
_NAME_WORD = re.compile(r"(?P<word>[^\W\d_][\w'’-]*)(?P<after>[ \t]*[,!.:;]|[ \t]*$)?")
# what follows a greeting without being a person's name: "Dear customer", "Hi there", "Hello team",
# "Hi all", "Dear valued client", or the reply's first words ("Hi, Thanks for ...")
GENERIC_ADDRESSEES = frozenset("""
customer customers client clients there team all everyone everybody sir madam friend friends folks guys
user users member members valued traveller traveler travellers passenger rider riders guest guests
shopper colleague colleagues partner partners you yall y'all again and ladies gentlemen people support
""".split())
_NOT_NAMES = STOP_WORDS | GENERIC_ADDRESSEES | frozenset("""
thanks thank sorry welcome great good glad happy sure hope trust unfortunately regarding following just
apologies apologise apologize certainly of course morning afternoon evening day
""".split())

# a customer's sign-off with their name: "Thanks, Maria", "Regards,\nMaria Lopez", "- Maria"
_SIGN_OFF = (r"(?i:many\s+thanks|thanks\s+(?:again|so\s+much|in\s+advance)|thank\s+you|thanks|thx|cheers|"
             r"(?:kind|best|warm|warmest)?\s*regards|best(?:\s+wishes)?|sincerely|yours(?:\s+truly)?)")
_SIGNED = re.compile(rf"(?:^|\n|[.!?][ \t]+)[ \t]*(?:{_SIGN_OFF}[ \t]*[,!.]?[ \t]*\n?[ \t]*|[-–—~][ \t]*)"
                     r"(?P<name>[A-Z][a-zà-ÿ'’-]+)(?:[ \t]+[A-Z][a-zà-ÿ'’.-]*){0,2}[ \t]*\.?[ \t]*(?=\n|$)")


def signed_name(asked: str) -> str | None:
    """The first name a customer signed a message with ("Thanks, Maria" -> "Maria"), or None."""
    names = [m.group("name") for m in _SIGNED.finditer(asked) if m.group("name").lower() not in _NOT_NAMES]
    return names[-1] if names else None


def greets_by_name(reply: str, signed: str | None = None) -> bool:
    """Whether `reply` greets the customer by a name: a greeting followed by a name-like word
    ("Hi Maria", "Hello Mr. Chen", "Dear Ana,", "Hi vijaya,"), not a generic addressee ("Dear
    customer", "Hi there", "Good morning"); or, when the customer signed with `signed`, that
    name in the reply's opening (its first two sentences: "Hi! Thanks for waiting, Maria.")."""
    opening = " ".join(m.group(0) for _, m in zip(range(2), _SENTENCE.finditer(reply.lstrip())))
    first_line = reply.lstrip().split("\n", 1)[0]
    if signed and re.search(rf"(?<![\w-]){re.escape(signed)}(?![\w-])", opening, re.I):
        return True
    greeting = _GREETING.match(first_line)
    if greeting is None:
        return False
    rest = greeting.group("rest")
    title = _TITLE.match(rest)
    if title and title.end() < len(rest):
        rest = rest[title.end():]
    word = _NAME_WORD.match(rest)
    if word is None:
        return False
    name = word.group("word")
    if name.lower().replace("’", "'").split("'")[0] in _NOT_NAMES:
        return False
    # after "Hi," the next word starts the reply's first sentence ("Hi, Uber works better ...")
    # unless it stands alone ("Hi, Maria!"); right after the greeting, a capitalised word (or any
    # word after a title) reads as a name, a lower-case one only before a comma ("Hi vijaya, ...")
    alone = word.group("after") is not None
    if greeting.group("comma"):
        return alone
    return name[0].isupper() or bool(title) or alone


# -- empathy ----------------------------------------------------------------------------------

_FEELING = r"(?:frustrating|annoying|stressful|upsetting|disappointing|inconvenient|worrying|confusing|difficult)"
_INTENSITY = r"(?:(?:so|really|very|truly|incredibly|extremely|quite|certainly|understandably|definitely)\s+)?"
# the phrases that acknowledge the customer's situation or apologise (docs/text.md lists them)
EMPATHY_PHRASES: tuple[str, ...] = (
    r"sorry",
    r"apologi[sz](?:e|es|ed|ing)",
    r"(?:my|our|sincere|sincerest)\s+apologies",
    r"apologies\s+for",
    r"we\s+regret",
    r"(?:i|we)\s+(?:completely\s+|totally\s+|fully\s+|really\s+|do\s+|can\s+)?understand",
    r"understandabl[ey]",
    r"(?:i|we)\s+(?:can\s+)?(?:only\s+)?imagine",
    r"(?:i|we)\s+(?:know|realise|realize|see|appreciate)\s+how",
    r"(?:sounds|must\s+be|must\s+have\s+been)\s+" + _INTENSITY + _FEELING,
    r"how\s+" + _FEELING,
    r"(?:sounds\s+like|must\s+have\s+been|what)\s+an?\s+" + _INTENSITY + _FEELING,
    r"thank(?:s|\s+you)\s+(?:so\s+much\s+|very\s+much\s+)?for\s+(?:your|being\s+so|being)\s+(?:patience|patient|understanding)",
    r"thank(?:s|\s+you)\s+for\s+bearing\s+with",
    r"i\s+hear\s+you",
    r"(?:any|the)\s+inconvenience",
    r"(?:your|the)\s+frustration",
    r"not\s+the\s+experience",
    r"(?:does\s*n['’]?t|does\s+not)\s+sound\s+right",
)
_EMPATHY = re.compile(r"(?<![\w'’])(?:" + "|".join(EMPATHY_PHRASES) + r")(?![\w'’])", re.I)
# kind, but not an apology or acknowledgement: the customer apologised, the agent waves it off
_NOT_EMPATHY = re.compile(r"\bno\s+need\s+to\s+(?:apologi[sz]e|be\s+sorry)\b|\bnot\s+sorry\b", re.I)


def empathetic(reply: str) -> bool:
    """Whether `reply` acknowledges the customer's situation or apologises (EMPATHY_PHRASES)."""
    return _EMPATHY.search(_NOT_EMPATHY.sub(" ", reply)) is not None


# -- questions --------------------------------------------------------------------------------

_LEAD = re.compile(r"^(?:[\s,;:()\-–—*•]|(?:and|also|so|but|ok|okay|hi|hello|hey|please|then|well|plus|"
                   r"additionally|secondly|lastly|finally|one\s+more\s+thing|another\s+question|oh|btw)\b)+", re.I)
_WH = r"(?:how|what|when|where|why|which|who|whose|whom)"
_AUX = (r"(?:can|could|would|will|do|does|did|is|are|was|were|should|shall|may|might|have|has|had|am|"
        r"isn['’]?t|aren['’]?t|won['’]?t|can['’]?t|don['’]?t|doesn['’]?t|didn['’]?t|wasn['’]?t)")
_SUBJECT = r"(?:you|i|we|it|they|he|she|this|that|there|these|those|my|our|your|the|a|an|someone|anyone|anybody|somebody|me|us)"
# sentences that ask without a question mark: "how do I ...", "can you ...", "when will ...",
# and indirect questions: "I was wondering ...", "please let me know when ..."
_ASKING = re.compile(
    rf"^(?:{_WH}\s+(?:{_AUX}|much|many|long|often|soon|far|to|about|else|exactly)\b|{_WH}['’]s\b|{_AUX}\s+{_SUBJECT}\b)"
    r"|\b(?:i(?:['’]m|\s+am|\s+was)\s+wondering|i\s+wonder|i(?:['’]d|\s+would)\s+like\s+to\s+know|i\s+want\s+to\s+know|"
    rf"please\s+(?:advise|explain|tell\s+me)|let\s+me\s+know\s+{_WH}|let\s+me\s+know\s+(?:if|whether)|"
    r"(?:can|could)\s+you\s+(?:please\s+)?tell\s+me)\b", re.I)
# questions that are politeness, not something to answer
_PLEASANTRY = re.compile(r"^(?:how\s+are\s+you|how\s+are\s+things|how['’]?s\s+it\s+going|how\s+have\s+you\s+been|"
                         r"how\s+is\s+your\s+day|hope\s+you\S*\s+(?:are\s+)?(?:well|good|doing\s+well))\b", re.I)
_LONE_WORDS = re.compile(rf"^{_WH}$", re.I)


def questions(text: str) -> list[str]:
    """The questions in a customer's text, in order: sentences ending in '?' and sentences that
    ask without one ("how do I ...", "can you ...", "I was wondering ..."); pleasantries ("how
    are you?") and lone calls ("Hello?") are not questions."""
    found: list[str] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        core = _LEAD.sub("", sentence).strip(" \t.?!")
        if not core or _PLEASANTRY.match(core):
            continue
        words = core.split()
        if sentence.endswith("?") or "?" in sentence[-3:]:
            if len(words) >= 2 or _LONE_WORDS.match(core):
                found.append(sentence)
        elif _ASKING.search(core):
            found.append(sentence)
    return found


# -- specifics: numbers, amounts, dates --------------------------------------------------------

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?P<{g}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = re.compile(rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH.format(g='m1')}\b"
                   rf"|\b{_MONTH.format(g='m2')}\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b", re.I)
_AMOUNT = re.compile(r"[$€£¥₹]\s?(?P<a1>\d[\d,]*(?:\.\d+)?)|(?P<a2>\d[\d,]*(?:\.\d+)?)\s?(?:usd|eur|gbp|inr|rs|dollars?|euros?|pounds?)\b",
                     re.I)
# an identifier or number the customer gave: an order, ticket or reference number, a date written
# in digits; three characters at least ("#4471", "AB-1234", "12/03/2024"), so "I have 2 questions" is not one
_CODE = re.compile(r"(?<![\w/.-])#?(?P<code>(?:[a-z]+[-/.]?)?\d[a-z0-9]*(?:[-/.][a-z0-9]+)*)", re.I)


# a name inside a sentence: a product, place or brand ("my Bialetti grinder", "the Galaxy S24");
# not the sentence's first word, not a word in capitals (shouting)
_PROPER = re.compile(r"(?<=[\w,;:)'’] )(?P<name>[A-Z][a-z]*[a-z][A-Za-z]*)\b")


def proper_names(text: str) -> set[str]:
    """The lower-cased names written inside sentences of `text` ("my Bialetti grinder" ->
    bialetti), leaving out function words ("I", "Please")."""
    return {w for w in (m.group("name").lower() for m in _PROPER.finditer(text)) if w not in _NOT_NAMES}


_DIGIT = re.compile(r"\d")


def _amount(raw: str) -> str:
    value = float(raw.replace(",", ""))
    return f"amount:{value:g}"


def specifics(text: str) -> set[str]:
    """The specifics a text names, normalised so that a reply restating them matches: codes and
    numbers of three characters or more ("#A-4471" -> "a-4471" and its digits 4471), amounts ("$45.00" and "45 USD"
    -> 45) and dates with a month name ("3rd of March" and "Mar 3" -> 03-03)."""
    found: set[str] = set()
    if not _DIGIT.search(text):  # every specific here has a digit; most texts have none
        return found
    for m in _DATE.finditer(text):
        month = (m.group("m1") or m.group("m2")).lower()[:3]
        day = int(m.group("d1") or m.group("d2"))
        if 1 <= day <= 31:
            found.add(f"date:{_MONTHS.index(month) + 1:02d}-{day:02d}")
    for m in _AMOUNT.finditer(text):
        found.add(_amount(m.group("a1") or m.group("a2")))
    for m in _CODE.finditer(text):
        code = m.group("code").lower().rstrip(".-/")
        if len(re.sub(r"[^a-z0-9]", "", code)) >= 3:
            found.add(code)
            digits = re.sub(r"\D", "", code)
            if len(digits) >= 3 and digits != code:  # "order 4471" restates "#A-4471"
                found.add(digits)
    return found
