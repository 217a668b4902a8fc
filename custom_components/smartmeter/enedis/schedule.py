"""When to ask Enedis for data: hourly from 05:00 to 20:00 Paris time until yesterday is in.

Enedis publishes a day the next morning (from about 08:00, sometimes later). Until yesterday's
data is all there, poll once an hour at the chosen minute between 05:00 and 20:00; once it is,
or after 20:00, wait for the next day's 05:xx. Pure: callers pass "now".
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Final

from .readings import PARIS

FIRST_HOUR: Final = 5
# Polls start before 20:00: the last at 19:xx.
LAST_HOUR: Final = 19


def next_poll(now: datetime, minute: int, complete: bool) -> datetime:
    """Return the next poll after now (aware), in UTC."""
    local = now.astimezone(PARIS)
    day = local.date()
    if not complete:
        for hour in range(FIRST_HOUR, LAST_HOUR + 1):
            slot = datetime.combine(day, time(hour, minute), PARIS)
            if slot > local:
                return slot.astimezone(UTC)
    # Yesterday is in, or today's last poll is past: tomorrow's first.
    return datetime.combine(day + timedelta(days=1), time(FIRST_HOUR, minute), PARIS).astimezone(
        UTC
    )
