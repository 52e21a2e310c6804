"""The words of the demo's benchmark study: what the mystery shoppers ask and how companies answer.

The study's companies sell what the demo organisation sells (card readers, a sales dashboard,
payouts, an API: small-business payments software), so every question is one a merchant would
ask any of them. Each `Question` carries its main question, an optional second one, and the
answers to both: a reply is composed of a greeting (by the shopper's name, generic or none), an
optional acknowledgement, the answer or an off-topic deflection, the second answer or not, and a
sign-off. What varies is what the SPI's criteria score (docs/studies.md): greeting by name or
restating the shopper's specifics (personalised), acknowledging (empathetic), answering what was
asked (relevant) and every question asked (thorough). Shoppers sign with a first name
("Thanks, Maria"), as customers do, so the text signals can tell a greeting by name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """One thing a shopper asks, with the answers a company may give.

    `context` holds the ways a message opens (a merchant's situation), each with the sentence
    a personal answer uses to refer back to it (restating its specifics: the café, the error code)."""

    context: tuple[tuple[str, str], ...]
    ask: str
    ask2: str
    answer: str
    answer2: str
    problem: bool = False  # something went wrong: every acknowledgement fits, not only the polite ones


QUESTIONS: tuple[Question, ...] = (
    Question(
        (("We're opening a second café next month and are comparing card readers.",
          "Good luck with opening your second café!"),
         ("I run a small bakery and I'm looking for a new card reader.",
          "A card reader will suit a bakery well.")),
        "What are your transaction fees for contactless card payments?",
        "Is there a monthly fee for the card reader itself?",
        "Our transaction fee for contactless card payments is 1.69% per payment, with no fixed fee on top.",
        "There is no monthly fee for the card reader: you buy it once for 49 EUR and it is yours.",
    ),
    Question(
        (("Our market stall often loses its Wi-Fi connection.",
          "Offline mode is made for a market stall like yours."),
         ("We sell at outdoor festivals where the signal is patchy.",
          "Offline mode is made for festivals with a patchy signal.")),
        "Does the card reader keep taking payments when the Wi-Fi connection drops?",
        "How long are offline payments stored on the reader?",
        "Yes, the card reader keeps taking payments in offline mode when the Wi-Fi connection drops, and sends them "
        "as soon as it is back online.",
        "Offline payments are stored on the reader for up to 72 hours, so a weekend of festivals is no problem.",
    ),
    Question(
        (("I'm switching my shop from another provider.",
          "Welcome, and thanks for switching your shop to us."),
         ("Cash flow is tight for my shop at the moment.",
          "I know cash flow matters for your shop.")),
        "How long do payouts take to reach my bank account?",
        "Can I get payouts on weekends too?",
        "Payouts reach your bank account within two working days of the payment, every working day.",
        "Weekend payouts are available with instant payouts, for a 1% fee per payout.",
    ),
    Question(
        (("A customer of mine was charged twice for one sale of 38.50 EUR on Saturday.",
          "For the 38.50 EUR sale on Saturday, refund just one of the two charges."),
         ("One sale of 38.50 EUR went through twice on Saturday.",
          "For Saturday's 38.50 EUR sale, refund just one of the two charges.")),
        "How do I refund the duplicate charge?",
        "Will the customer see the refund on their card statement?",
        "To refund the duplicate charge, open the sale in Transactions, choose Refund and enter the amount of the "
        "duplicate charge.",
        "The customer sees the refund on their card statement within 3 to 5 working days.",
        problem=True,
    ),
    Question(
        (("Our accountant asks for all our sales each quarter.",
          "Your accountant will have the whole quarter in one file."),
         ("It's the end of the quarter and my accountant needs our numbers.",
          "Your accountant will have the quarter's numbers in one file.")),
        "How can I export my sales to a CSV file for my accountant?",
        "Can the export show the VAT of each sale?",
        "Go to Reports > Sales, pick the dates and click Export to CSV: the file has every sale, ready for your "
        "accountant.",
        "Yes, the export shows the VAT of each sale when you tick 'Tax details' before exporting.",
    ),
    Question(
        (("We've hired a weekend assistant for the shop.",
          "The Cashier role suits a weekend assistant well."),
         ("A new part-time cashier starts in our shop on Monday.",
          "The Cashier role is made for a part-time cashier like yours.")),
        "How do I add a staff member who can take payments but not issue refunds?",
        "Can I see which staff member took each payment?",
        "Add the staff member under Settings > Team and give them the Cashier role: cashiers can take payments but "
        "cannot issue refunds.",
        "Yes, every payment in Transactions shows the staff member who took it.",
    ),
    Question(
        (("Many tourists pay at our hotel bar.",
          "Tourists at your hotel bar will be able to pay in their own currency."),
         ("We get a lot of American visitors at our gift shop.",
          "American visitors to your gift shop will be able to pay in dollars.")),
        "Can I accept payments in US dollars as well as euros?",
        "What exchange rate do you use?",
        "Yes, you can accept payments in US dollars as well as euros: turn on multi-currency payments under "
        "Settings > Payments.",
        "We use the daily mid-market exchange rate plus 1%.",
    ),
    Question(
        (("Since yesterday our reader shows error E-104 on contactless payments.",
          "E-104 is one we see now and then, and it's quick to fix."),
         ("Our card reader keeps showing error E-104 when customers tap their cards.",
          "E-104 on tapped cards is quick to fix.")),
        "What does error E-104 mean and how do I fix it?",
        "Should I send the reader back?",
        "Error E-104 means the reader's contactless antenna needs a restart: hold the power button for 10 seconds, "
        "then update the reader's firmware in the app to fix it.",
        "No need to send the reader back unless error E-104 comes back after the firmware update.",
        problem=True,
    ),
    Question(
        (("Our developer is connecting our online shop to your platform.",
          "Your online shop can listen for payments as they happen."),
         ("We're building an integration with our booking system.",
          "Your booking system can listen for payments as they happen.")),
        "Does your API send webhooks for new payments?",
        "Is there a sandbox to test the API?",
        "Yes, the API sends a webhook for every new payment: set the webhook URL under Developers > Webhooks.",
        "There is a free sandbox to test the API with test cards, under Developers > Sandbox.",
    ),
    Question(
        (("We're closing our pop-up shop at the end of the month.",
          "Thank you for running your pop-up shop with us."),
         ("Our seasonal kiosk closes for the winter.",
          "Thank you for running your kiosk with us, and see you in spring.")),
        "How do I cancel my subscription at the end of the month?",
        "Will I still have access to my sales history after cancelling?",
        "You can cancel your subscription under Settings > Billing: it ends at the end of the month with no further "
        "charge.",
        "Yes, you keep read-only access to your sales history for 12 months after cancelling.",
    ),
)

SHOPPERS: tuple[str, ...] = (
    "Maria", "James", "Ana", "Peter", "Sarah", "David", "Laura", "Marco", "Chloe", "Raj", "Elena", "Lucas",
    "Amira", "Oliver", "Ines", "Tomasz", "Hana", "Felix", "Aiko", "Nadia", "Arjun", "Claire", "Pedro", "Mei",
)

# greetings: {name} is the shopper's first name
GREET_NAME: tuple[str, ...] = ("Hi {name},", "Hello {name},", "Dear {name},", "Hi {name}!")
GREET_GENERIC: tuple[str, ...] = ("Hello,", "Dear customer,", "Hi there,", "Dear Sir or Madam,")
# chat and phone answers open with the conversation, not a letter's greeting
GREET_LIVE_NAME: tuple[str, ...] = ("Hi {name}, thanks for waiting.", "Hello {name}, happy to help.")
GREET_LIVE_GENERIC: tuple[str, ...] = ("Thanks for contacting us.", "Hello, how can I help?")

# acknowledgements: the first two fit any question, the others a problem
EMPATHY: tuple[str, ...] = (
    "Sorry for the wait, and thanks for your patience.",
    "I understand how important this is for your business.",
    "I'm sorry for the trouble this has caused.",
    "I can only imagine how frustrating that must be.",
)
EMPATHY_ANY = 2
# answers that do not answer: a link, a request for details, the wrong topic
DEFLECT: tuple[str, ...] = (
    "Please visit our help centre for more information.",
    "You can find everything about our products on our website.",
    "Please send us your account number and we will look into your account.",
    "Our sales team will be in touch about our plans and pricing.",
)
DEFLECT_SOCIAL: tuple[str, ...] = (
    "Please send us a DM with your account email so we can look into it.",
    "Please contact our support team through the help centre.",
)
SIGN_OFF: tuple[str, ...] = ("Best regards,\n{agent}, {company} Support", "Kind regards,\nThe {company} team",
                             "Thanks,\n{agent}")
AGENTS: tuple[str, ...] = ("Sophie", "Daniel", "Priya", "Mark", "Julia", "Kenji", "Lea", "Carlos", "Emma", "Ravi")

# automatic answers: the only answer some probes get
AUTO: dict[str, tuple[str, ...]] = {
    "email": (
        "Thank you for contacting {company}. We have received your request (ticket {ticket}) and will reply within "
        "48 hours. This is an automated message; please do not reply.",
        "This is an automatic confirmation: your message has reached {company} Support. Our team will get back to "
        "you as soon as possible.",
    ),
    "chat": (
        "I'm the {company} virtual assistant. Here are some articles that may help: Getting started, Payments FAQ.",
        "All our agents are busy right now. Please leave your email address and we will get back to you.",
    ),
    "phone": (
        "Recorded message: for help, please visit our website; this line does not take support calls.",
        "Recorded message: all our advisers are busy, please call back later. The call ended.",
    ),
    "social": (
        "Thanks for reaching out to {company}! Our team replies Monday to Friday, 9 to 5.",
        "Hi! This is an automated reply: for support, please use the help centre on our website.",
    ),
}
