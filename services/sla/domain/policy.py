"""SLA policies: the response and resolution targets a shop promises, per channel and priority. No I/O.

Defaults follow ../shared/DOMAIN.md: e-mail and the contact form answered
within 30 business minutes; social networks and messengers within 15 minutes
(a Facebook page is "very responsive" at 15 minutes on average, every day);
live chat within a minute; a phone callback within 15 business minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum

from pronto.calendar import BusinessCalendar


class Metric(Enum):
    FIRST_RESPONSE = "first_response"
    # Each new customer message after an operator's reply.
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Target:
    duration: timedelta
    # Counted in the shop's business hours, or in plain calendar time.
    business: bool


def _minutes(n: float, business: bool) -> Target:
    return Target(timedelta(minutes=n), business)


SOCIAL = ("facebook", "instagram", "x")
MESSENGERS = ("whatsapp", "telegram", "viber")
DEFAULT_RESPONSE: dict[str, Target] = {
    "email": _minutes(30, True),
    "contact_form": _minutes(30, True),
    "web_chat": _minutes(1, False),
    "phone": _minutes(15, True),
    **{channel: _minutes(15, False) for channel in (*SOCIAL, *MESSENGERS)},
}
DEFAULT_RESOLUTION: dict[str, Target] = {
    "web_chat": _minutes(30, False),
    **{channel: _minutes(16 * 60, True) for channel in DEFAULT_RESPONSE if channel != "web_chat"},
}


# The pause states an operator sets (issue #21), and the clocks each stops unless a shop says
# otherwise: waiting on the customer or on a courier is not the shop's resolution time, but the
# customer who writes meanwhile is still owed an answer in time.
PAUSE_STATES = ("pending", "on_hold")
DEFAULT_PAUSES: tuple[tuple[str, frozenset[Metric]], ...] = tuple(
    (state, frozenset({Metric.RESOLUTION})) for state in PAUSE_STATES
)


# How long a resolved conversation can be reopened by the customer writing, its resolution clock
# going on from the time it had counted (``ConversationClocks.resolved``). Four days, as Zendesk's
# default automation closes a solved ticket after four days; after it, a message starts afresh.
REOPEN_WITHIN = timedelta(days=4)


@dataclass(frozen=True)
class Policy:
    """A shop's targets. Priority (0 standard .. 3 VIP) may tighten them: ``by_priority`` wins.

    A target of None is switched off: no clock runs for that channel (and priority), which is not
    the same as a channel left out of a table, which has no target either but is never configured
    so (the settings fill every channel with its default, ``services/sla/settings.py``).
    """

    calendar: BusinessCalendar = field(default_factory=BusinessCalendar.always_open)
    response: Mapping[str, Target | None] = field(default_factory=lambda: dict(DEFAULT_RESPONSE))
    resolution: Mapping[str, Target | None] = field(default_factory=lambda: dict(DEFAULT_RESOLUTION))
    # (channel, priority, metric) -> target, for the exceptions (VIP customers answered sooner);
    # None switches the metric off for that channel and priority.
    by_priority: Mapping[tuple[str, int, Metric], Target | None] = field(default_factory=dict)
    warn_fraction: float = 0.8
    # While the operator waits on the customer, the resolution clock stands still.
    pause_when_awaiting_customer: bool = True
    # Pause state -> the metrics whose clocks stand still in it. A tuple, not a mapping, so that the
    # default is a class attribute: policies pickled in snapshots before it existed read it.
    pause_states: tuple[tuple[str, frozenset[Metric]], ...] = DEFAULT_PAUSES
    # A resolved conversation counts as paused this long: the customer writing within it reopens it
    # and its resolution clock counts on; zero: every message after a resolution starts new clocks.
    reopen_within: timedelta = REOPEN_WITHIN

    def __post_init__(self) -> None:
        if not 0 < self.warn_fraction < 1:
            raise ValueError(f"warn_fraction must be between 0 and 1, not {self.warn_fraction}")

    def pauses(self, state: str) -> frozenset[Metric]:
        """The metrics whose clocks stand still while the conversation is in ``state``."""
        return next((metrics for name, metrics in self.pause_states if name == state), frozenset())

    def target(self, channel: str, priority: int, metric: Metric) -> Target | None:
        """The target for a conversation; None when the shop sets none for this channel (and priority)."""
        if (channel, priority, metric) in self.by_priority:
            return self.by_priority[(channel, priority, metric)]
        table = self.resolution if metric is Metric.RESOLUTION else self.response
        return table.get(channel)
