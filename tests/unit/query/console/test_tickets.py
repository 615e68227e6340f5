"""Event stream tickets: one stream each, within their lifetime, and a bounded number outstanding."""

from __future__ import annotations

from services.query.console.auth import Caller
from services.query.console.tickets import OUTSTANDING, TICKET_LIFETIME_S, Tickets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_ticket_opens_one_stream_for_its_caller() -> None:
    tickets = Tickets(Clock())
    ticket = tickets.issue(Caller("shop", "ada"))
    assert tickets.redeem(ticket) == Caller("shop", "ada")
    assert tickets.redeem(ticket) is None
    assert tickets.redeem("made-up") is None


def test_a_ticket_expires() -> None:
    clock = Clock()
    tickets = Tickets(clock)
    ticket = tickets.issue(Caller("shop"))
    clock.now += TICKET_LIFETIME_S
    assert tickets.redeem(ticket) is None


def test_asking_in_a_loop_keeps_only_the_newest() -> None:
    tickets = Tickets(Clock())
    first = tickets.issue(Caller("shop"))
    for _ in range(OUTSTANDING):
        last = tickets.issue(Caller("shop"))
    assert tickets.redeem(first) is None
    assert tickets.redeem(last) == Caller("shop")
