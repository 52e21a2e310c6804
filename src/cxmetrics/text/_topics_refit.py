"""What a refit changed: old topics against new ones, from where the same tickets went
(docs/text.md, "Discovered topics in the workspace"; issue 13 item 1).

`changes(flows, old, new)` reads the tickets that had an old topic and got a new one, as
(old topic, new topic, tickets) counts, and says for each topic what became of it:

- an old topic **split** when at least a quarter of its tickets (MOVE_SHARE) went to each of
  two or more new topics;
- old topics **merged** when one new topic took at least half (BULK_SHARE) of the tickets of
  each of two or more old topics;
- an old topic was **kept** when one new topic took at least half of its tickets (and took
  no other old topic's bulk);
- an old topic **disappeared** when it neither split nor kept half its tickets together (they
  scattered), or has no tickets left;
- a new topic **appeared** when no old topic sent it a quarter of its tickets.

>>> found = changes([(0, 0, 50), (1, 1, 26), (1, 2, 24)], {0: "refund", 1: "card"},
...                 {0: "refund", 1: "card lost", 2: "card stolen"})
>>> [(c.change, c.old, c.new) for c in found]
[('kept', (0,), (0,)), ('split', (1,), (1, 2))]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["BULK_SHARE", "MOVE_SHARE", "TopicChange", "changes"]

#: an old topic goes to a new topic when at least this share of its tickets went there
MOVE_SHARE = 0.25
#: a new topic takes an old topic's bulk when at least this share of its tickets went there
BULK_SHARE = 0.5


@dataclass(frozen=True)
class TopicChange:
    """One line of a refit's report: `change` is kept, split, merged, appeared or disappeared;
    `old` and `new` are the topic ids involved (old model, new model), `tickets` how many
    tickets this line is about, and `note` says it in words."""

    change: str
    old: tuple[int, ...]
    new: tuple[int, ...]
    tickets: int
    note: str


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def changes(flows: Iterable[tuple[int, int, int]], old: Mapping[int, str], new: Mapping[int, str]) -> list[TopicChange]:
    """The report, old topics first (in id order: kept, split or disappeared), then merges,
    then the new topics that appeared. `flows` are (old id, new id, tickets); `old` and `new`
    name every topic of each model (an old topic with no flows has no tickets left)."""
    count: dict[int, dict[int, int]] = defaultdict(dict)
    into: dict[int, int] = defaultdict(int)
    for o, n, tickets in flows:
        if tickets > 0:
            count[o][n] = count[o].get(n, 0) + tickets
            into[n] += tickets
    size = {o: sum(count[o].values()) for o in old}

    def name(ids: Mapping[int, str], i: int) -> str:
        return f"{i} '{ids.get(i, '?')}'"

    # where each old topic went: the new topics holding a quarter or more of its tickets
    targets = {o: sorted((n for n, c in count[o].items() if c >= MOVE_SHARE * size[o]), key=lambda n: (-count[o][n], n))
               for o in old}
    bulk_of = {n: [o for o in old if size[o] and count[o].get(n, 0) >= BULK_SHARE * size[o]] for n in new}
    merged = {n for n, sources in bulk_of.items() if len(sources) >= 2}
    report: list[TopicChange] = []
    for o in sorted(old):
        went = targets[o]
        if len(went) >= 2:
            moved = sum(count[o][n] for n in went)
            parts = ", ".join(f"{name(new, n)} ({_pct(count[o][n], size[o])})" for n in went)
            report.append(TopicChange("split", (o,), tuple(went), moved,
                                      f"old topic {name(old, o)} split into {parts} of its {size[o]} tickets"))
        elif went and count[o][went[0]] >= BULK_SHARE * size[o]:
            n = went[0]
            if n not in merged:
                report.append(TopicChange("kept", (o,), (n,), count[o][n],
                                          f"old topic {name(old, o)} is new topic {name(new, n)} "
                                          f"({_pct(count[o][n], size[o])} of its {size[o]} tickets)"))
        else:
            spread = len(count[o])
            why = (f"its {size[o]} tickets scattered over {spread} new topics, none holding half"
                   if size[o] else "no tickets of it are left")
            report.append(TopicChange("disappeared", (o,), (), size[o], f"old topic {name(old, o)} disappeared: {why}"))
    for n in sorted(merged):
        sources = bulk_of[n]
        parts = ", ".join(f"{name(old, o)} ({_pct(count[o][n], size[o])})" for o in sources)
        report.append(TopicChange("merged", tuple(sources), (n,), sum(count[o][n] for o in sources),
                                  f"old topics {parts} merged into new topic {name(new, n)}"))
    reached = {n for went in targets.values() for n in went}
    for n in sorted(new):
        if n not in reached:
            report.append(TopicChange("appeared", (), (n,), into.get(n, 0),
                                      f"new topic {name(new, n)} appeared: {into.get(n, 0)} tickets, no old topic "
                                      "sent it a quarter of its own"))
    return report
