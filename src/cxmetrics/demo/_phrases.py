"""The phrases demo messages are composed of: what customers write and how agents answer.

A message is a few parts in a fixed order (greeting, opener, reference, main text, extra,
sign-off; see `_messages`), each part a phrase from `PARTS`, so that texts vary the way real
ones do while staying codes into one vocabulary. Phrases may hold `{name}` (the customer's
first name) or `{number}` (the order or invoice number the ticket's subject quotes).

What varies, and what the text layer should find in it (docs/text.md, issue 13):
- the first customer message elaborates its subject (two phrasings per subject, each with one
  question), sometimes with a second question (`ASK2`) and a frustrated opener;
- follow-ups change tone with how the ticket goes: patient, impatient after long waits,
  thankful or fed up at the end;
- each topic has a usual resolution (three paraphrases of one answer) and, for a few topics, a
  discrepant one that a few agents give (`WRONG`): the consistency metric shows them;
- agents greet by name or generically, apologise or not, answer the second question or not.
Greetings carry their own separator (a blank line after them) and sign-offs theirs (a blank
line before); the sentence parts between them are joined with a space.
"""

from __future__ import annotations

from cxmetrics.demo._text import SUBJECTS, TOPICS

# One entry per subject in SUBJECTS (same order): two phrasings of the first message.
FIRST: dict[str, tuple[tuple[str, str], ...]] = {
    "billing": (
        ("I was charged twice for my subscription this month, both on the same day. Can you refund the duplicate "
         "payment?",
         "My card shows two identical charges for the subscription. Could you check and refund one of them?"),
        ("I returned order #{number} two weeks ago but the refund hasn't reached my card. When will the payment be "
         "refunded?",
         "Order #{number} went back to you unused within 30 days. Could you please refund the payment to my card?"),
        ("Invoice #{number} has our old VAT number on it and our accountant can't use it. Can you issue a corrected "
         "invoice?",
         "The VAT number on invoice #{number} is wrong. Could you send a new invoice with the correct one?"),
        ("This month's bill is higher than usual and we didn't change our plan. Why did the price go up?",
         "We were charged more than last month for the same number of users. Can you explain the extra charge on the "
         "bill?"),
        ("The app said my payment failed, but the money has already left my bank account. Can you check what happened "
         "to the payment?",
         "Your site says my payment was declined, yet my bank shows the charge. Will the payment be refunded or "
         "counted?"),
        ("I need a copy of invoice #{number} for our accounts. Can you send it as a PDF?",
         "Our finance team is missing invoice #{number}. Where can I download a copy of the invoice?"),
        ("We'd like to move from monthly to annual billing to save money. Can we switch the subscription now?",
         "Is there a discount for paying yearly? We'd like to switch our subscription to annual billing."),
    ),
    "login": (
        ("I can't log in to my account since this morning; it says the password is incorrect. Can you help me get back "
         "in?",
         "Every time I try to sign in I get an 'invalid credentials' error, even with the right password. What is "
         "going wrong with my login?"),
        ("I've requested a password reset three times but the email never arrives, not even in spam. Can you send the "
         "reset email again?",
         "The reset password link doesn't reach my inbox. Is there another way to reset my password?"),
        ("The two-factor code from my authenticator app is rejected every time. How can I log in?",
         "My 2FA code keeps coming back as invalid, although I type it straight away. Can you reset two-factor "
         "authentication on my account?"),
        ("I typed my password wrong a few times and now my account is locked. Can you unlock it?",
         "My account has been locked after too many login attempts. How long until I can try to log in again?"),
        ("When I log in with SSO through our Google account, it sends me straight back to the sign-in page. Is "
         "something wrong with our SSO setup?",
         "Single sign-on keeps looping back to the login screen for everyone on our team. Can you look at our SSO "
         "configuration?"),
    ),
    "shipping": (
        ("I ordered a card reader ten days ago (order #{number}) and it still hasn't arrived. Where is my order?",
         "Order #{number} should have been delivered last week. Can you tell me where the parcel is?"),
        ("The card reader arrived today with a cracked screen and a crushed box. Can you send a replacement?",
         "Our new card reader was damaged in delivery and won't switch on. How do I get it replaced?"),
        ("The tracking number for order #{number} says 'not found' on the courier's site. Has the parcel actually "
         "shipped?",
         "I can't track order #{number}: the tracking link shows no information. Can you check the delivery status?"),
        ("Order #{number} arrived but it contains the wrong model of card reader. Can you send the right one?",
         "We received the wrong item in order #{number}. How do I return it and get the correct card reader "
         "delivered?"),
        ("I just placed an order but entered our old office address. Can I still change the delivery address?",
         "Is it possible to update the shipping address on my order before it ships? We moved last month."),
        ("Order #{number} was placed a week ago and still shows 'processing'. When will it ship?",
         "My order #{number} hasn't shipped yet, although delivery was promised within two days. What is the delay?"),
    ),
    "bug": (
        ("When I export my report to CSV the file downloads but it's empty. Is the export broken?",
         "The CSV export gives me a file with only the headers and no data. Can you fix the export?"),
        ("The dashboard still shows yesterday's numbers even after refreshing. Why isn't the data updating?",
         "Our dashboard hasn't updated since yesterday morning. Is there a problem with the data sync?"),
        ("The mobile app crashes every time I open the reports tab. Is this a known bug?",
         "Opening reports in the app makes it close immediately, on both my phone and tablet. Can you fix the crash?"),
        ("I get an error 500 whenever I try to save our settings. Can you look into this error?",
         "Saving any change in settings fails with 'Error 500: internal server error'. Is something broken on your "
         "side?"),
        ("Webhook #{number} stopped firing yesterday and our integration missed all new orders. Can you check why it "
         "stopped?",
         "We haven't received any events from webhook #{number} since yesterday. Is there an issue with webhooks?"),
        ("The charts don't load in Safari; the page stays blank where the charts should be. Is Safari supported?",
         "In Safari the charts never finish loading, although they work in Chrome. Can you fix this bug?"),
    ),
    "how-to": (
        ("We've hired a new colleague. How do I add a new user to our account?",
         "I'd like to invite a team member to our workspace. Where do I add new users?"),
        ("I've unpacked the card reader but can't figure out how to connect it to my phone. How do I pair the reader?",
         "What are the steps to connect the card reader over Bluetooth? The app doesn't find the reader."),
        ("I need our API key to set up an integration. Where can I find the API key?",
         "Our developer is asking for an API key for the integration. How do I create one?"),
        ("I'd like a sales report emailed to me every Monday. How do I schedule a report?",
         "Is it possible to send a report automatically every week? I can't find the option to schedule reports."),
        ("Some of our staff can see financial reports they shouldn't. How do I change their permissions?",
         "Can I give a user access to reports but not to billing? I'm not sure how permissions work."),
        ("I have a spreadsheet with all our customer contacts. How do I import my contacts?",
         "My CSV file of contacts is rejected by the import. What format does the contact import need?"),
    ),
    "account": (
        ("Our account owner has left the company. How do we transfer ownership of the account to me?",
         "Our operations manager is taking over. Can you change the owner of our account to her?"),
        ("We've rebranded and need the company name on account #{number} updated. Can you change the company name?",
         "Our company name changed last month. Can you update it on account #{number} so it shows on invoices?"),
        ("We accidentally created two accounts for the same business. Can you merge them into one account?",
         "We'd like to keep the data of both our accounts. Is it possible to merge the two accounts?"),
        ("Under GDPR I'd like all my personal data deleted. Can you confirm when my data has been erased?",
         "Please delete my personal data from your systems. How long will the deletion take?"),
        ("I've changed jobs and need to update the email address on my account. How do I change my email?",
         "I no longer have access to my old email address. Can you change the login email on my account?"),
    ),
    "cancellation": (
        ("We've decided to stop using the service. Can you cancel my subscription at the end of this month?",
         "Please cancel our subscription as soon as possible. Will we still be charged for next month?"),
        ("We're closing the business and want to cancel everything. How do I close my account and cancel all payments?",
         "I want to cancel and close my account completely. What happens to our data when the account is closed?"),
        ("I placed an order by mistake. Can you cancel order #{number} before it ships?",
         "I no longer need it, please cancel order #{number}. Will I get a full refund for the cancelled order?"),
        ("We don't need the paid features anymore and want to cancel the paid plan. How do I downgrade to the free "
         "plan?",
         "Our team has shrunk to two people, so we'd like to cancel our paid subscription. Can we move to the free "
         "plan without losing our data?"),
    ),
    "feature_request": (
        ("Working late, the bright screen is hard on the eyes. Is a dark mode feature on your roadmap?",
         "Dark mode would make the product much easier to use at night. Could you add a dark mode feature?"),
        ("CSV is fine, but our finance team needs Excel files. Could you add an Excel export feature?",
         "We spend hours converting CSV files for our accountants. Is an Excel export feature on your roadmap?"),
        ("We live in Slack all day. Is a Slack integration for alerts on your roadmap?",
         "Getting notifications in Slack would help our team a lot. Could you add a Slack integration feature?"),
        ("We sell in euros and pounds. Is support for multiple currencies on your roadmap?",
         "We're expanding to the US next quarter and will sell in dollars too. Could you add a multi-currency "
         "feature?"),
    ),
    "outage": (
        ("Nothing loads for me right now. Is the service down?",
         "The site times out for everyone in our office. Are you having an outage?"),
        ("Since this morning the dashboard and the app won't load at all. Is there an outage?",
         "Nothing has loaded since 9am, the whole service seems down. When will it be back up?"),
        ("The site is down for all our users and we can't work. When will it be fixed?",
         "None of our team can reach the site since this morning. Is this an outage on your side?"),
        ("Every page gives me error 503 Service Unavailable. Is the service down?",
         "We're getting 503 errors on every request, including the API. Is the service down?"),
    ),
}

# Context some customers give before their question, per topic.
CONTEXT: dict[str, tuple[str, ...]] = {
    "billing": ("Our subscription is billed monthly to the company card.",
                "I look after billing and payments for our team.", "We pay for the subscription by card every month."),
    "login": ("I'm trying to log in from my work laptop.", "Logging in worked fine until yesterday.",
              "I need to log in to my account for work today."),
    "shipping": ("The delivery was sent by courier to our shop.", "We're still waiting for the parcel at our store.",
                 "The order was for our new shop, so the delivery matters."),
    "bug": ("It looks like a bug on your side.", "This error started after your last update.",
            "It was working fine until the last update."),
    "how-to": ("I'm new to the product and still setting things up.",
               "I've looked in the help centre but couldn't find the steps.", "We've just started using the product."),
    "account": ("I'm the admin of our company account.", "This is about our company account settings.",
                "I manage the account for our team."),
    "cancellation": ("We've decided to cancel.", "Sadly we need to cut costs and cancel.",
                     "We're moving to another tool, so we need to cancel."),
    "feature_request": ("It would be a great feature for us.", "Other tools we use already have this feature.",
                        "I'd like to suggest a new feature."),
    "outage": ("The whole service seems to be down right now.", "Looks like an outage, nothing is working.",
               "The service is down for our whole team."),
}

# A second question some customers add, per topic; ANSWER2 answers it (same position).
ASK2: dict[str, tuple[str, ...]] = {
    "billing": ("Also, can I get a copy of the invoice for my records?",
                "And can I change the card you charge each month?"),
    "login": ("Also, can I change the email address I log in with?",
              "And is there a way to stay logged in on my work laptop?"),
    "shipping": ("Also, can you send me an invoice for the order?", "And do you deliver on Saturdays?"),
    "bug": ("Also, will we lose any data because of this?",
            "And is there a status page where I can check known issues?"),
    "how-to": ("Also, is there a video tutorial for this?", "And can I do the same from the mobile app?"),
    "account": ("Also, will this change our invoices?", "And do the other users need to do anything?"),
    "cancellation": ("Also, can I export our data first?", "And will I get a refund for the unused days?"),
    "feature_request": ("Also, is there a public roadmap I can follow?", "And is there a workaround for now?"),
    "outage": ("Also, will we be compensated for the downtime?", "And is there a status page I can check?"),
}
ANSWER2: dict[str, tuple[str, ...]] = {
    "billing": ("You can download a copy of every invoice as a PDF under Settings > Billing > Invoices.",
                "To change the card we charge each month, go to Settings > Billing > Payment method and add the new "
                "card."),
    "login": ("You can change the email address you log in with under Profile > Email; we'll confirm it at the new "
              "address.",
              "To stay logged in on your work laptop, tick 'Remember this device' when you sign in; it lasts 30 days."),
    "shipping": ("The invoice for your order is attached to the shipping confirmation email and under Orders in your "
                 "account.",
                 "We deliver on Saturdays too: pick a Saturday delivery slot on the tracking page."),
    "bug": ("You won't lose any data because of this: everything is stored safely and will show again.",
            "Known issues are listed on our status page at status.example.com, which you can subscribe to."),
    "how-to": ("There's also a short video tutorial for this in the help centre, under Getting started.",
               "You can do the same from the mobile app under Menu > Settings."),
    "account": ("Your invoices will show this change from the next billing date.",
                "The other users don't need to do anything; they'll see the change the next time they log in."),
    "cancellation": ("You can export all your data first under Settings > Data export.",
                     "The unused days are refunded pro rata to your card within 5 business days."),
    "feature_request": ("You can follow our public roadmap and vote on requests at roadmap.example.com.",
                        "As a workaround for now, our Zapier integration can do this for you."),
    "outage": ("Under our SLA you'll be compensated for the downtime with a service credit on your next invoice.",
               "You can check our status page at status.example.com for live updates."),
}

# The usual resolution of each topic: three wordings of one answer.
ANSWER: dict[str, tuple[str, ...]] = {
    "billing": (
        "I've checked your billing history and sorted this out: any overcharge is refunded to your original payment "
        "method within 5 business days, and the updated invoice is under Settings > Billing.",
        "I've corrected the charges on your account, and any overcharge goes back to your original payment method "
        "within 5 business days. You'll find the updated invoice under Settings > Billing.",
        "Your billing is corrected now: any overcharge is refunded to your original payment method, which takes up to "
        "5 business days, and the updated invoice is in Settings > Billing.",
    ),
    "login": (
        "I've reset your login on our side and sent you a new password reset link, valid for 24 hours. Once you're in, "
        "set up two-factor authentication again under Profile > Security.",
        "I've unlocked your account and sent a fresh password reset link, valid for 24 hours. After you log in, please "
        "set up two-factor authentication again under Profile > Security.",
        "Your account is unlocked and a new password reset link is on its way; it's valid for 24 hours. Then set up "
        "two-factor authentication again under Profile > Security.",
    ),
    "shipping": (
        "I've checked with the courier: your parcel is on its way and tracking works again. If it hasn't arrived "
        "within 3 business days, we'll send a replacement free of charge.",
        "The courier confirmed your parcel is on its way and tracking works again. If nothing arrives within 3 "
        "business days, we'll send you a free replacement.",
        "I've been in touch with the courier and your parcel is on its way, with tracking working again. Should it not "
        "arrive within 3 business days, we'll send a replacement free of charge.",
    ),
    "bug": (
        "Our engineers found the cause and released a fix this morning. Please refresh the page or update the app, and "
        "it should work again.",
        "Thanks to your report our engineers found the cause, and a fix was released this morning: refresh the page or "
        "update the app and it will work again.",
        "Our engineering team has found the cause and released a fix this morning. A refresh of the page or an update "
        "of the app is all it takes to make it work again.",
    ),
    "how-to": (
        "You'll find this under Settings > Admin. I've sent you our step-by-step guide from the help centre; an admin "
        "on your account can set it up in a couple of minutes.",
        "This is under Settings > Admin, and here's the step-by-step guide from our help centre: any admin on your "
        "account can set it up in a couple of minutes.",
        "Go to Settings > Admin and follow the step-by-step guide from our help centre I've sent you; it takes an "
        "admin on your account a couple of minutes.",
    ),
    "account": (
        "I've made the change to your account, and you'll receive a confirmation email shortly. The account owner can "
        "review it any time under Settings > Account.",
        "The change to your account is done and a confirmation email is on its way; the account owner can review it "
        "under Settings > Account.",
        "Done: I've made the change to your account and emailed you a confirmation. The account owner can review it "
        "any time under Settings > Account.",
    ),
    "cancellation": (
        "I've cancelled your subscription as requested. It stays active until the end of the current billing period, "
        "and you won't be charged again.",
        "Your subscription is cancelled as requested; it stays active until the end of this billing period and you "
        "won't be charged again.",
        "As requested, I've cancelled the subscription. You won't be charged again, and it stays active until the end "
        "of the current billing period.",
    ),
    "feature_request": (
        "Thanks for the suggestion! I've passed it on to our product team and added your vote to the request; we'll "
        "let you know when it's on the roadmap.",
        "Great idea, thank you! I've passed it on to our product team and added your vote, and we'll let you know once "
        "it's on the roadmap.",
        "Thank you for the suggestion! Your vote is added to the request and our product team has it; we'll let you "
        "know when it's on the roadmap.",
    ),
    "outage": (
        "We had an outage this morning that affected all customers. It has been fixed and everything is working "
        "normally again; sorry for the disruption.",
        "This morning's outage affected all customers; it has been fixed and everything is working normally again. "
        "Sorry for the disruption.",
        "An outage affected all customers this morning. Our team has fixed it and everything is working normally "
        "again; we're sorry for the disruption.",
    ),
}

# A discrepant resolution: what the agents in `_messages.DISCREPANT` answer on that topic instead.
WRONG: dict[str, tuple[str, ...]] = {
    "billing": (
        "Refunds aren't possible on our plans, so I've added the amount to your account as store credit instead; it "
        "will be deducted from your next invoice automatically.",
        "We can't refund this, but I've put the amount on your account as store credit, which comes off your next "
        "invoice.",
    ),
    "shipping": (
        "Once a parcel leaves our warehouse it's the courier's responsibility, so please contact the courier directly "
        "with your tracking number.",
        "Deliveries are handled by the courier once they leave our warehouse; please get in touch with them directly, "
        "quoting your tracking number.",
    ),
    "bug": (
        "Please uninstall the app, restart your device and install it again from the app store, then log back in.",
        "Try removing the app, restarting your phone or computer and installing it again; that clears the app's data.",
    ),
}

# An agent's first reply that asks before answering, per topic.
CLARIFY: dict[str, tuple[str, ...]] = {
    "billing": ("Could you send me the date and amount of the charge, and the last four digits of the card?",
                "Could you forward the line of your bank statement for this payment, so I can find it on our side?"),
    "login": ("Which browser and device are you using, and do you see an error message?",
              "Could you tell me the email address you sign in with, so I can check the login logs?"),
    "shipping": ("Could you confirm the full delivery address on the order?",
                 "Could you send a photo of the parcel and the packing slip?"),
    "bug": ("Could you send us a screenshot of the error and tell us when it happened?",
            "Which browser or app version are you using, so we can try to reproduce it?"),
    "how-to": ("Which plan are you on? The steps are slightly different on each.",
               "Are you doing this on the web dashboard or in the mobile app?"),
    "account": ("For security, could you confirm the email address of the account owner?",
                "Could you reply from the email address registered on the account, so we can verify it's you?"),
    "cancellation": ("Could you tell me why you'd like to cancel? It helps us improve.",
                     "Could you confirm the email address of the account you'd like to cancel?"),
    "feature_request": ("Could you tell me a bit more about how you'd use this?",
                        "Which part of the product would you need this in?"),
    "outage": ("We're aware of the issue and our engineers are working on it. Which region are you in?",
               "Our team is investigating. Do you see an error code on the page?"),
}

# A bot's first answer, per topic: the help-centre article it suggests.
BOT: dict[str, tuple[str, ...]] = {
    "billing": ("Hi! I'm the assistant. This article might help: Understanding your invoice and refunds.",),
    "login": ("Hi! I'm the assistant. This article might help: Resetting your password and two-factor login.",),
    "shipping": ("Hi! I'm the assistant. This article might help: Tracking your order and delivery times.",),
    "bug": ("Hi! I'm the assistant. This article might help: Fixing common errors in the app.",),
    "how-to": ("Hi! I'm the assistant. I found two articles in our help centre that match your question.",),
    "account": ("Hi! I'm the assistant. This article might help: Managing your account settings.",),
    "cancellation": ("Hi! I'm the assistant. This article might help: Changing or cancelling your plan.",),
    "feature_request": ("Hi! I'm the assistant. Here's what I found in our help centre: Our product roadmap.",),
    "outage": ("Hi! I'm the assistant. Our status page has the latest on any service disruption.",),
}

# The number a subject quotes, named for an agent who refers back to it (by the word before '#').
REFER: dict[str, str] = {
    "order": "I've looked up order #{number}.",
    "invoice": "I've looked up invoice #{number}.",
    "webhook": "I've checked webhook #{number}.",
    "account": "I've looked up account #{number}.",
}

PARTS_GROUPS: dict[str, tuple[str, ...]] = {
    # customers
    "open_written": ("Hi,\n\n", "Hello,\n\n", "Hi team,\n\n", "Good morning,\n\n", "Hello support,\n\n"),
    "open_live": ("Hi! ", "Hello! ", "Hi there! "),
    "upset": ("This is really frustrating.", "I'm very unhappy about this.",
              "This is the second time I'm writing about this and I'm getting annoyed."),
    "urgent": ("URGENT:", "This is urgent."),
    "sign": ("\n\nRegards,\n{name}", "\n\nBest,\n{name}", "\n\n{name}", "\n\nKind regards,\n{name}",
             "\n\nThanks,\n{name}"),
    "info": ("Here is the screenshot you asked for.", "I'm using Chrome on Windows 11.",
             "Sure, all the details are in my first message.", "It happens for all users on our team.",
             "I've sent the details you asked for.", "It's the address in my first message."),
    "impatient": ("Any update on this? I've been waiting for days and nobody has replied.",
                  "I still haven't heard back. This is really frustrating.",
                  "Hello? This is urgent and nobody is answering. Terrible service."),
    "tried": ("I tried that but it still doesn't work.", "That didn't fix it, the problem is still there.",
              "Still the same problem after trying that."),
    "good": ("That worked, thank you so much!", "Perfect, everything works now. Thanks for the quick help!",
             "Great, that's exactly what I needed. Thanks a lot!", "Brilliant, all sorted. Really appreciate it!"),
    "bad": ("I tried that and it still doesn't work. This is getting really frustrating.",
            "That didn't help at all. I've explained this three times now and I'm fed up.",
            "Still broken. I'm very disappointed with how long this is taking."),
    "okay": ("OK, I've done that. Let me know if you need anything else from me.",
             "Understood, I'll wait for your reply.", "I've followed the steps you sent."),
    "reopen": ("It's happening again, the problem is back. Really annoying.",
               "This is not fixed. Same problem as before and I'm disappointed.",
               "The issue came back this morning. Very frustrating."),
    "waiting": ("Thanks, I'll wait for your update.", "OK, thanks for checking.", "Any news on this?"),
    "nudge": ("Also, it happens on my phone too.", "Hello? Is anyone looking at this?",
              "One more detail: it started after the last update."),
    "thanks_again": ("Thanks again for sorting this out so quickly!", "Really happy with the help, thank you!"),
    # agents
    "greet_name": ("Hi {name},\n\n", "Hello {name},\n\n", "Dear {name},\n\n", "Hi {name}!\n\n"),
    "greet_generic": ("Dear customer,\n\n", "Hi there,\n\n", "Hello,\n\n", "Dear valued customer,\n\n"),
    "empathy": ("Sorry for the trouble.", "I understand how frustrating this must be.",
                "Thanks for your patience.", "I'm sorry to hear about this.", "Apologies for the wait."),
    "sorry_again": ("I'm sorry it's happening again.", "Apologies that the problem is back."),
    "glad": ("Glad to hear it!", "Great news, thanks for confirming."),
    "patience": ("Thanks for your patience while we looked into this with the team.",),
    "middle": ("Thanks for the details. I'm checking this with our specialists and will get back to you shortly.",
               "Thank you, I've passed this on to the team and will update you as soon as I hear back.",
               "Thanks, I'm looking into it now and will come back to you today."),
    "call_open": ("Thanks for your call today. As discussed:", "Following up on our call:"),
    "callback_open": ("Sorry we missed your call; I've just called you back. As discussed:",),
    "call_later": ("Please send us the details by email and we'll take it from there.",
                   "I'll check a few things and get back to you by email."),
    "close": ("\n\nBest regards", "\n\nKind regards,\nSupport team",
              "\n\nLet me know if there's anything else I can help with.", "\n\nCheers"),
    "refer": tuple(REFER.values()),
}


def _topic_groups(prefix: str, table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {f"{prefix}:{topic}": table[topic] for topic in TOPICS if topic in table}


def _first_groups() -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    for topic, subjects in SUBJECTS.items():
        bodies = FIRST[topic]
        if len(bodies) != len(subjects):  # the two tables are kept in step by hand
            raise AssertionError(f"FIRST[{topic!r}] has {len(bodies)} entries for {len(subjects)} subjects")
        for subject, phrasings in zip(subjects, bodies):
            groups[f"first:{len(groups)}"] = phrasings
            if "{number}" in "".join(phrasings) and subject[1] is None:
                raise AssertionError(f"a first message of {subject[0]!r} quotes a number its subject has not")
    return groups


GROUPS: dict[str, tuple[str, ...]] = {
    **PARTS_GROUPS,
    **_first_groups(),
    **_topic_groups("context", CONTEXT),
    **_topic_groups("ask2", ASK2),
    **_topic_groups("answer2", ANSWER2),
    **_topic_groups("answer", ANSWER),
    **_topic_groups("wrong", WRONG),
    **_topic_groups("clarify", CLARIFY),
    **_topic_groups("bot", BOT),
}
