"""Whether a staff recipient may be told something at a moment: their hours, else the staff hours."""

from __future__ import annotations

from datetime import datetime

from pronto.calendar import BusinessCalendar
from services.notify.settings import NotifySettings


class QuietHours:
    """Outside a recipient's hours notifications wait for a digest, so nobody is woken at midnight."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._calendars: dict[str, BusinessCalendar | None] = {}

    def awake(self, key: str, at: datetime) -> bool:
        """Whether the recipient named by ``key`` (tenant/kind/id) may be told something at ``at``."""
        if key not in self._calendars:
            tenant, kind, recipient = [*key.split("/", 2), "", ""][:3]
            shop = self.settings.shop(tenant)
            contact = shop.operator(recipient) if kind == "operator" else shop.supervisors
            self._calendars[key] = shop.calendar(contact.hours if contact else {})
        calendar = self._calendars[key]
        return calendar is None or calendar.is_open(at)
