"""The words of the demo: topics, subjects, message bodies, survey comments and names.

Text is chosen from fixed vocabularies by index, so a whole chunk's subjects or comments are one
`take` on an Arrow array rather than a string built per row. A subject that carries a number
("Refund request for order #4821") is stored as a prefix and a suffix around it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Vocabulary:
    """Named groups of phrases in one list, so a phrase is an integer code into `words`."""

    def __init__(self, groups: dict[str, tuple[str, ...]]) -> None:
        self.words: list[str] = []
        self.groups: dict[str, tuple[int, int]] = {}
        for name, phrases in groups.items():
            self.groups[name] = (len(self.words), len(phrases))
            self.words.extend(phrases)

    def pick(self, group: str, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` random phrases of a group, as codes."""
        offset, size = self.groups[group]
        return offset + rng.integers(0, size, n)

    def pick_from(self, groups: Sequence[str], which: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random phrase per row from the group `groups[which[row]]`, as codes."""
        offset, size = (np.array(column, dtype=np.int64) for column in zip(*(self.groups[g] for g in groups)))
        which = np.asarray(which, dtype=np.int64)
        return offset[which] + (rng.random(which.size) * size[which]).astype(np.int64)

TOPICS: tuple[str, ...] = (
    "billing", "login", "shipping", "bug", "how-to", "account", "cancellation",
    "feature_request", "outage",
)

# Topic mix of ordinary days (outage tickets come from the outage spike).
TOPIC_SHARES: tuple[float, ...] = (0.17, 0.10, 0.13, 0.11, 0.21, 0.12, 0.06, 0.07, 0.03)

PRODUCTS: tuple[str, ...] = ("Dashboard", "Mobile App", "API", "Card Reader")

# Product mix per topic, in PRODUCTS order.
TOPIC_PRODUCTS: dict[str, tuple[float, ...]] = {
    "billing": (0.6, 0.2, 0.05, 0.15),
    "login": (0.5, 0.4, 0.1, 0.0),
    "shipping": (0.05, 0.0, 0.0, 0.95),
    "bug": (0.4, 0.35, 0.2, 0.05),
    "how-to": (0.5, 0.25, 0.15, 0.1),
    "account": (0.6, 0.3, 0.05, 0.05),
    "cancellation": (0.7, 0.2, 0.05, 0.05),
    "feature_request": (0.5, 0.3, 0.2, 0.0),
    "outage": (0.55, 0.3, 0.15, 0.0),
}

# (prefix, suffix): a subject with a number has a non-empty `#` before the suffix.
SUBJECTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "billing": (
        ("Charged twice for my subscription", None),
        ("Refund request for order #", ""),
        ("Invoice #", " shows the wrong VAT number"),
        ("Why did my bill go up this month?", None),
        ("Payment failed but money left my account", None),
        ("Need a copy of invoice #", ""),
        ("Can I switch to annual billing?", None),
    ),
    "login": (
        ("Can't log in", None),
        ("Password reset email never arrives", None),
        ("Two-factor code not accepted", None),
        ("Locked out of my account after too many attempts", None),
        ("SSO login loops back to the sign-in page", None),
    ),
    "shipping": (
        ("Where is my order #", "?"),
        ("Card reader arrived damaged", None),
        ("Tracking number not working for order #", ""),
        ("Wrong item delivered in order #", ""),
        ("Can I change the delivery address?", None),
        ("Order #", " still not shipped"),
    ),
    "bug": (
        ("Export to CSV is empty", None),
        ("Dashboard shows yesterday's numbers", None),
        ("App crashes when I open reports", None),
        ("Error 500 when saving settings", None),
        ("Webhook #", " stopped firing"),
        ("Charts don't load in Safari", None),
    ),
    "how-to": (
        ("How do I add a new user?", None),
        ("How to connect the card reader", None),
        ("Where can I find the API key?", None),
        ("How do I schedule a report?", None),
        ("Question about permissions", None),
        ("How to import my contacts", None),
    ),
    "account": (
        ("Change the owner of our account", None),
        ("Update company name on account #", ""),
        ("Merge two accounts", None),
        ("Delete my personal data (GDPR)", None),
        ("Change my email address", None),
    ),
    "cancellation": (
        ("Please cancel my subscription", None),
        ("How do I close my account?", None),
        ("Cancel order #", ""),
        ("Downgrade to the free plan", None),
    ),
    "feature_request": (
        ("Feature request: dark mode", None),
        ("Please add an export to Excel", None),
        ("Would love a Slack integration", None),
        ("Can you support multiple currencies?", None),
    ),
    "outage": (
        ("Is the service down?", None),
        ("Nothing loads since this morning", None),
        ("Site is down for all our users", None),
        ("Getting error 503 everywhere", None),
    ),
}

# The fixed message bodies (most messages are composed from the phrases in _phrases.py).
CUSTOMER_AFTER_BOT_OK: tuple[str, ...] = ("Thanks, that solved it!", "Great, that's what I needed.")
CUSTOMER_AFTER_BOT_NO: tuple[str, ...] = (
    "That's not what I asked. Can I talk to a person?",
    "Agent please",
    "This doesn't help, I need a human.",
)
AGENT_NOTE: tuple[str, ...] = (
    "Checked the logs, looks like the known sync issue.",
    "Customer is on an old plan, check with Billing before refunding.",
    "Asked engineering in #support-escalations.",
)
AGENT_OUTBOUND: tuple[str, ...] = (
    "Hi, we noticed a failed payment on your account and wanted to help.",
    "Hi, following up on your call earlier today.",
    "Hi, your replacement card reader has shipped.",
)
SYSTEM_CREATED: tuple[str, ...] = ("Automated alert: payment failed for the last invoice.",
                                   "Automated alert: device offline for 24 hours.")

# Survey comments: by how the experience went.
COMMENT_SLOW: tuple[str, ...] = (
    "Took three days to get a reply.",
    "Way too slow, I had to chase you twice.",
    "Waited hours for a simple answer.",
)
COMMENT_REOPENED: tuple[str, ...] = (
    "Had to contact you again, the issue wasn't fixed.",
    "Marked as solved but it wasn't.",
)
COMMENT_BOT: tuple[str, ...] = (
    "The bot kept sending me the same article.",
    "I just wanted to talk to a human.",
)
COMMENT_BAD: tuple[str, ...] = (
    "The answer didn't help at all.",
    "Felt like nobody read my message.",
    "Very frustrating experience.",
)
COMMENT_NEUTRAL: tuple[str, ...] = (
    "OK in the end, but it took a while.",
    "Fine, nothing special.",
    "Solved, but I had to explain it twice.",
)
COMMENT_GOOD: tuple[str, ...] = (
    "Super helpful, thanks!",
    "Fast and friendly, great service.",
    "Solved in minutes, thank you.",
    "The agent really knew the product.",
    "Great support as always.",
)
COMMENT_NPS_LOW: tuple[str, ...] = ("Too expensive for what it does.", "Support is slow to respond.",
                                    "Too many bugs lately.")
COMMENT_NPS_HIGH: tuple[str, ...] = ("Love the product and the team.", "Easy to use and reliable.",
                                     "Best tool we use every day.")
COMMENT_ESAT_LOW: tuple[str, ...] = ("Too many tickets per person.", "Not enough training on new features.")
COMMENT_ESAT_HIGH: tuple[str, ...] = ("Great team.", "I like the new tools.")

FIRST_NAMES: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Priya", "Tom", "Maria", "Lukas", "Aisha", "Chen", "Olivia",
    "Noah", "Fatima", "Liam", "Sofia", "Mateo", "Emma", "Yuki", "Omar", "Hannah", "Diego",
    "Zoe", "Ivan", "Grace", "Kwame",
)
# Customers sign their messages with a first name (the same one on every ticket of a customer).
CUSTOMER_NAMES: tuple[str, ...] = (
    "Maria", "James", "Ana", "Peter", "Sarah", "David", "Laura", "Michael", "Julia", "Daniel", "Emily",
    "Marco", "Chloe", "Ben", "Nina", "Raj", "Elena", "Paul", "Mia", "Lucas", "Amira", "Oliver", "Ines",
    "Jack", "Leila", "Tomasz", "Hana", "George", "Carmen", "Felix", "Aiko", "Samuel", "Rosa", "Hugo",
    "Nadia", "Kevin", "Eva", "Arjun", "Claire", "Mohammed", "Lena", "Pedro", "Ingrid", "Victor", "Mei",
    "Robert", "Sara", "Andrea", "Jonas", "Fiona", "Ahmed", "Lucy", "Stefan", "Grace", "Karim", "Helen",
    "Luis", "Anna", "Ravi", "Kate",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Patel", "Müller", "Garcia", "Kowalski", "Nguyen", "Rossi", "Johnson", "Silva",
    "Dubois", "Kim", "Okafor", "Jensen", "Novak", "Brown", "Haddad",
)

ACTIONS: tuple[str, ...] = ("login", "view_dashboard", "create_report", "invite_user", "export")
ACTION_SHARES: tuple[float, ...] = (0.42, 0.33, 0.13, 0.05, 0.07)
