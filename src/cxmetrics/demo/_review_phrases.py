"""The words of the demo organisation's app reviews and of its replies to them.

Reviews are about what merchants live with: payouts, fees, the card reader, the app itself, and
the year's events (the outage, the price change, the big mobile release). Their words carry
their stars (complaints at 1-2 stars, praise at 4-5, "fine but" at 3), so sentiment against
stars has something to show; a few say one thing and rate another, as real ones do. Replies
greet the reviewer by first name when there is one, and refer to what the review was about.
"""

from __future__ import annotations

NEGATIVE: dict[str, tuple[str, ...]] = {
    "payouts": (
        "Payouts are always late. My money should arrive in two days and it takes a week. Terrible for a small "
        "business.",
        "Third time this month my payout is delayed. I can't pay my suppliers. Very disappointed.",
        "Where is my money? Payout missing since Friday and nobody answers.",
    ),
    "fees": (
        "The fees keep going up. Way too expensive for a small shop, looking for another provider.",
        "Hidden fees everywhere. I was charged for things nobody told me about.",
    ),
    "reader": (
        "The card reader keeps disconnecting from the app in the middle of a sale. So frustrating with a queue "
        "of customers.",
        "Reader won't pair with my phone anymore. Useless.",
        "Bluetooth connection to the reader drops all the time. Lost sales because of it.",
    ),
    "app": (
        "The app crashes every time I open reports. Please fix it.",
        "Slow, buggy and logs me out constantly. Worst payment app I've used.",
        "Sales history doesn't load. Useless when I need to check a refund.",
    ),
    "support": (
        "Support never replies. I've been waiting for days about a failed payment.",
        "Awful customer service, I keep getting the same copy-paste answer.",
    ),
    "outage": (
        "The app was down all morning and I couldn't take a single card payment. Lost a whole morning of sales.",
        "Payments failing everywhere today, customers walked out. Unacceptable.",
        "Down again during our busiest hours. Can't rely on this.",
    ),
    "pricing": (
        "You raised the price without warning. Not happy at all, thinking of cancelling.",
        "New pricing is a joke. Paying more for the same thing.",
    ),
    "release": (
        "The new update broke everything. The app crashes when I open reports since the new version.",
        "Since the last update the reader disconnects constantly. Please roll it back.",
    ),
}
NEUTRAL: tuple[str, ...] = (
    "Does the job, but the reports could be better.",
    "Works fine most days, though payouts could be faster.",
    "OK app. Would be nice to have more export options.",
    "Good reader, average app. The dashboard is a bit confusing.",
    "Decent, but the fees are on the high side.",
)
POSITIVE: dict[str, tuple[str, ...]] = {
    "general": (
        "Great app, easy to set up and the payouts are fast.",
        "Love it! Taking card payments at my market stall has never been easier.",
        "Brilliant for a small business. Clear reports and quick payouts.",
        "Easy to use, reliable and the card reader works perfectly.",
        "Excellent! Set up in ten minutes and took my first payment straight away.",
        "Very happy with it, the sales dashboard is really helpful.",
        "Great", "Love it", "Excellent app", "Very good", "Easy to use",
    ),
    "support": (
        "Support was quick and friendly when my reader had a problem. Great service.",
        "Helpful support team, sorted my payout question in minutes.",
    ),
    "release": (
        "Love the new update, the app is much faster now!",
        "The new version looks great and the reports are clearer.",
    ),
}
# what a few reviews say against their stars: a complaint rated 5, a "good" rated 1
MISMATCH_HIGH: tuple[str, ...] = ("Reader keeps disconnecting.", "Payouts are slow.")
MISMATCH_LOW: tuple[str, ...] = ("Good", "Nice app")
# added to a review edited after the company replied to it
EDIT_WORSE: tuple[str, ...] = ("Edit: still not fixed after your reply.", "Update: nothing has changed since.")
EDIT_BETTER: tuple[str, ...] = ("Edit: all sorted now, thanks to support.", "Update: fixed after the reply, thanks.")

# what the reviewer is called on the store: a first name and initial mostly, else a handle
HANDLES: tuple[str, ...] = ("A Google user", "shopkeeper22", "cafe.owner", "marketstall", "tillmaster", "bakehouse")

GREET_NAME = ("Hi {name}, ", "Hello {name}, ", "Hi {name}! ")
GREET_GENERIC = ("Hi there, ", "Hello, ", "")
REPLY_NEGATIVE: dict[str, str] = {
    "payouts": "we're sorry your payouts arrived late. Please message us in the app (Help > Chat) so we can check "
               "your payout schedule.",
    "fees": "we're sorry the fees came as a surprise. Our team can go through your fees with you: message us in the "
            "app under Help > Chat.",
    "reader": "sorry the card reader keeps disconnecting. Please update the reader's firmware in the app; if it "
              "still drops, message us under Help > Chat and we'll replace it.",
    "app": "sorry the app is giving you trouble. Please update to the latest version; if it still happens, "
           "message us under Help > Chat with your phone model.",
    "support": "we're sorry you waited so long. Please message us under Help > Chat and we'll pick it up today.",
    "outage": "we're very sorry for the outage that stopped card payments. It is fixed, and we've published what "
              "happened on our status page.",
    "pricing": "we understand the price change is disappointing. Please message us under Help > Chat and we'll "
               "find the plan that fits your business.",
    "release": "sorry the new version is causing problems. A fix is on its way; message us under Help > Chat if "
               "you need help before then.",
}
REPLY_NEUTRAL = ("thanks for the feedback! We've passed your suggestion to our product team.",
                 "thank you for the honest review. We're working on it and hope to earn that fifth star.")
REPLY_POSITIVE = ("thank you for the kind words! We're glad the app works well for your business.",
                  "thanks so much for the great review, it means a lot to our team.",
                  "thank you! Happy selling.")
