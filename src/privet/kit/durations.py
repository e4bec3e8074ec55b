"""ISO 8601 durations (P3Y, P6M, P30D, P2W, P1Y6M) for retention periods."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_DURATION = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?$")


@dataclass(frozen=True)
class Duration:
    """A calendar duration in years, months and days."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse `P3Y`, `P18M`, `P30D`, `P2W`, `P1Y6M`; raises ValueError with the accepted forms."""
        match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
        if not match or text.strip().upper() == "P":
            raise ValueError(f"{text!r} is not an ISO 8601 duration; write e.g. P3Y, P6M, P30D or P1Y6M")
        y, m, w, d = (int(match.group(k) or 0) for k in "ymwd")
        return cls(years=y, months=m, days=d + 7 * w)

    def __str__(self) -> str:
        parts = [f"{v}{u}" for v, u in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if v]
        return "P" + ("".join(parts) or "0D")

    def before(self, moment: datetime | date) -> datetime | date:
        """`moment` minus this duration, clamping the day at month ends (31 Mar - P1M = 28/29 Feb)."""
        import calendar

        month_index = moment.month - 1 - self.months - 12 * self.years
        year, month = moment.year + month_index // 12, month_index % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) - timedelta(days=self.days)

    def after(self, moment: datetime | date) -> datetime | date:
        """`moment` plus this duration, clamping the day at month ends (31 Jan + P1M = 28/29 Feb)."""
        import calendar

        month_index = moment.month - 1 + self.months + 12 * self.years
        year, month = moment.year + month_index // 12, month_index % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + timedelta(days=self.days)
