"""The PIPL cross-border mechanism a year's transfer volume requires (pure arithmetic, no store).

Source: CAC, Provisions on Promoting and Regulating Cross-Border Data Flows (促进和规范数据跨境流动规定,
in force 22 March 2024), Articles 5, 7 and 8, counted cumulatively from 1 January of the current year:
- fewer than 100,000 people's personal information (not sensitive) and no sensitive personal information:
  exempt from the three mechanisms (Art 5(4));
- 100,000 to under 1,000,000 people, or fewer than 10,000 people's sensitive personal information:
  the standard contract (filed with the provincial CAC) or certification (Art 8);
- 1,000,000 people or more, or 10,000 people's sensitive personal information or more, or important data, or
  a critical information infrastructure operator: a CAC security assessment (Art 7).
The year boundary is 1 January 00:00 China Standard Time (UTC+8, no daylight saving time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
SOURCE = (
    "CAC Provisions on Promoting and Regulating Cross-Border Data Flows (2024), Art 5, 7, 8; counted from 1 January"
)
PEOPLE_STANDARD = 100_000  # from here: standard contract or certification
PEOPLE_ASSESSMENT = 1_000_000  # from here: security assessment
SENSITIVE_ASSESSMENT = 10_000  # people with sensitive data, from here: security assessment

EXEMPT = "exempt"
STANDARD = "standard_contract_or_certification"
ASSESSMENT = "security_assessment"
LEVELS = (EXEMPT, STANDARD, ASSESSMENT)  # weakest first

# Mechanisms a transfer may record, and the level each one satisfies under PIPL (Art 38).
MECHANISMS = {
    "exemption": EXEMPT,  # CAC 2024 Art 5: contract, HR, emergency, or under the volume thresholds
    "standard_contract": STANDARD,
    "certification": STANDARD,
    "security_assessment": ASSESSMENT,
    "adequacy": EXEMPT,  # GDPR Art 45 / 46 / 47 mechanisms: not PIPL mechanisms (level of an exemption)
    "sccs": EXEMPT,
    "bcr": EXEMPT,
}


def required_level(people: int, sensitive_people: int, *, important_data: bool = False, ciio: bool = False) -> str:
    """The mechanism level PIPL requires for a year's cumulative counts (see the module's source)."""
    if people < 0 or sensitive_people < 0:
        raise ValueError("counts cannot be negative")
    if ciio or important_data or people >= PEOPLE_ASSESSMENT or sensitive_people >= SENSITIVE_ASSESSMENT:
        return ASSESSMENT
    if people >= PEOPLE_STANDARD or sensitive_people > 0:
        return STANDARD
    return EXEMPT


def rank(level: str) -> int:
    """0 exempt, 1 standard contract or certification, 2 security assessment."""
    return LEVELS.index(level)


def weaker(mechanism: str, level: str) -> bool:
    """Whether `mechanism` falls short of `level`."""
    return rank(MECHANISMS.get(mechanism, EXEMPT)) < rank(level)


def year_window(moment: datetime) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of the China Standard Time year containing `moment`, as aware datetimes."""
    local = moment.astimezone(CST)
    start = datetime(local.year, 1, 1, tzinfo=CST)
    return start, datetime(local.year + 1, 1, 1, tzinfo=CST)


def describe(level: str) -> str:
    """A short English line for the level."""
    return {
        EXEMPT: "exempt from the three mechanisms (fewer than 100,000 people, no sensitive data)",
        STANDARD: "standard contract or certification (100,000 to under 1,000,000 people, or fewer than "
        "10,000 people with sensitive data)",
        ASSESSMENT: "CAC security assessment (1,000,000 people or more, or 10,000 or more with sensitive "
        "data, or important data / a critical information infrastructure operator)",
    }[level]


@dataclass(frozen=True)
class YearCounts:
    """A year's cumulative counts and what they require."""

    year: int
    since: datetime
    people: int
    sensitive_people: int
    method: str  # "distinct" (subject ids known), "summed" (recorded counts added) or "mixed"
    transfers: int
    level: str
    stored_abroad: tuple = ()  # crossborder_stores.StoredAbroad: people held in datastores outside the home region

    def as_dict(self) -> dict:
        return {
            "year": self.year,
            "since": self.since.isoformat(),
            "people": self.people,
            "sensitive_people": self.sensitive_people,
            "counting": self.method,
            "transfers": self.transfers,
            "stored_abroad": [s.as_dict() for s in self.stored_abroad],
            "required": self.level,
            "required_text": describe(self.level),
            "source": SOURCE,
        }
