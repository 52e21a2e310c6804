"""The demo organisation's configuration files: its business hours, SLA policies, KPI
targets and surveys (a CSAT after solve and a relationship NPS that mail nobody: the demo
has no SMTP server and its customers no address; it shows collection with a survey link).

`cxmetrics demo` writes them into the workspace (only where the file does not exist yet,
so a user's own never gets overwritten), so that business-hours durations, SLA compliance
and the dashboard's SLA page have something true to show. Both follow the generator: the
schedules are the hours its agents answer in (`_channels.SCHEDULES`, in the demo's time
zone), and the first-reply targets are those its "Urgent tickets: 1-hour first reply
target" policy annotation announces.
"""

from __future__ import annotations

from cxmetrics.demo._channels import CHANNEL_SPECS, SCHEDULES

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours(schedule: str) -> str:
    """`{ mon-fri = ["08:00-18:00"], sat = [...] }` from the generator's weekly hours."""
    week = SCHEDULES[schedule]
    parts = []
    if len(set(week[:5])) == 1 and week[0] is not None:
        parts.append(f'mon-fri = ["{week[0][0]:02d}:00-{week[0][1]:02d}:00"]')
        rest = range(5, 7)
    else:
        rest = range(7)
    for day in rest:
        hours = week[day]
        parts.append(f'{_DAYS[day]} = ["{hours[0]:02d}:00-{hours[1]:02d}:00"]' if hours else f"{_DAYS[day]} = []")
    return "{ " + ", ".join(parts) + " }"


def schedules_toml(timezone: str) -> str:
    extended = [c.name for c in CHANNEL_SPECS if c.schedule == "extended"]
    return f"""# Written by `cxmetrics demo`: the demo organisation's business hours (edit freely;
# see docs/business-time.md). Tickets on the live channels are answered on extended hours.
default = "office"

[schedules.office]
timezone = "{timezone}"
hours = {_hours("office")}
holiday_calendars = [{{ country = "GB", subdiv = "ENG" }}]

[schedules.extended]
timezone = "{timezone}"
hours = {_hours("extended")}

[[schedule_rules]]
schedule = "extended"
when = {{ channel = [{", ".join(f'"{c}"' for c in extended)}] }}
"""


SLA_TOML = """# Written by `cxmetrics demo`: the demo organisation's SLA policies (edit freely; see
# docs/sla.md). The first policy whose conditions a ticket meets applies.

[[policy]]
name = "VIP"
description = "The VIP team's customers"
conditions = { team = ["VIP"] }

[policy.targets]
first_reply      = { urgent = "30m", high = "1h", default = "2h", hours = "business" }
next_reply       = { urgent = "1h", default = "4h", hours = "business" }
requester_wait   = { default = "16h", hours = "business" }
total_resolution = { default = "72h", hours = "calendar" }

[[policy]]
name = "Live channels"
description = "Chat, phone and messaging: answered within minutes"
conditions = { channel = ["chat", "phone", "messaging"] }

[policy.targets]
first_reply      = { urgent = "5m", high = "10m", default = "30m", hours = "business" }
total_resolution = { default = "48h", hours = "calendar" }

[[policy]]
name = "Everyone else"
description = "Email, web and social"

[policy.targets]
first_reply      = { urgent = "1h", high = "4h", normal = "8h", low = "24h", hours = "business" }
next_reply       = { urgent = "2h", default = "8h", hours = "business" }
periodic_update  = { default = "24h", hours = "calendar" }
pausable_update  = { default = "16h", hours = "business" }
agent_work_time  = { default = "24h", hours = "business" }
total_resolution = { urgent = "24h", default = "120h", hours = "calendar" }
"""

TARGETS_TOML = """# Written by `cxmetrics demo`: the demo organisation's KPI targets (edit freely, or use
# `cxmetrics targets set|remove`; see docs/targets.md). Values are in each metric's unit:
# percent 0-100, durations like "4h"; per-channel targets win over the metric's own.

[csat]
target = 85

[fcr]
target = 70

[nps]
target = 30

[frt]
target = "4h"

[frt.by.channel]
chat = "2m"
messaging = "10m"
phone = "5m"
email = "12h"

[full_resolution_time]
target = "24h"

[sla_compliance]
target = 90

[service_level]
target = 80

[abandonment_rate]
target = 5

[bot_resolution_rate]
target = 30
"""

SURVEYS_TOML = """# Written by `cxmetrics demo`: the surveys the demo organisation sends (edit freely, or use
# `cxmetrics surveys add|remove`; see docs/surveys.md).
#
# The demo mails nobody: this file has no [email] table and the demo's customers have no
# e-mail address, so `cxmetrics surveys run` skips every send as "no_address". To answer a
# survey as a customer would, make a link (it opens the survey page of the running server):
#
#     cxmetrics surveys link TICKET --score 5
#
# To mail surveys for real, give the customers an e-mail (import customers with an `email`
# column) and name an SMTP server:
#
# [email]
# host = "smtp.example.com"
# port = 587
# security = "starttls"
# username_env = "SURVEYS_SMTP_USER"
# password_env = "SURVEYS_SMTP_PASSWORD"
# from = "Demo Support <support@demo.example>"

[branding]
name = "Demo Support"
colour = "#2563eb"

# CSAT an hour after a ticket is solved, on the written channels; one reminder after 3 days
[[surveys]]
name = "csat_after_solve"
kind = "csat"
delay = "1h"
reminder = "3d"
where = { channel = ["email", "web", "chat", "messaging"] }

# NPS to every enterprise customer once a quarter
[[surveys]]
name = "nps_quarterly"
kind = "nps"
trigger = "relationship"
every = "90d"
segment = { tier = ["enterprise"] }
"""
