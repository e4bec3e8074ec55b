"""Deterministic fake people for the demo databases: one `random.Random` plus seeded Faker (zh_CN, en_US)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

# A fixed "now" keeps the data byte-identical between runs: the Keptek policy's effective date.
ANCHOR = datetime(2025, 11, 28, 12, 0, 0)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_AREA_CODES = ("110101", "120101", "310104", "440305", "440106", "330106", "510107", "420102", "320102")


@dataclass
class Fakes:
    """Random sources for one generation run; every value comes from here, so a seed fixes everything."""

    seed: int
    now: datetime = ANCHOR
    rng: random.Random = field(init=False)
    cn: object = field(init=False)
    en: object = field(init=False)
    _used: dict[str, set] = field(init=False, default_factory=dict)
    _agents: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        try:
            from faker import Faker  # imported here: only the demo needs it
        except ImportError:
            from privet.kit.errors import InvalidInput

            raise InvalidInput("The demo generator needs the Faker package", "pip install faker") from None

        self.rng = random.Random(self.seed)
        self.cn, self.en = Faker("zh_CN"), Faker("en_US")
        self.cn.seed_instance(self.seed)
        self.en.seed_instance(self.seed + 1)

    def unique(self, kind: str, make) -> str:  # noqa: ANN001 - a zero-argument callable
        """A value from `make()` not yet handed out for `kind` (suffixing a counter on a clash)."""
        used = self._used.setdefault(kind, set())
        value = make()
        n = 1
        while value in used:
            n += 1
            value = f"{make()}{n}"
        used.add(value)
        return value

    def chance(self, p: float) -> bool:
        """True with probability `p`."""
        return self.rng.random() < p

    def between(self, start: datetime, end: datetime) -> datetime:
        """A moment between `start` and `end`, whole seconds."""
        span = max(int((end - start).total_seconds()), 1)
        return start + timedelta(seconds=self.rng.randrange(span))

    def ago(self, days_max: int, days_min: int = 0) -> datetime:
        """A moment between `days_max` and `days_min` days before now."""
        return self.between(self.now - timedelta(days=days_max), self.now - timedelta(days=days_min))

    def birth_date(self, min_age: int, max_age: int) -> date:
        """A birth date giving an age in [min_age, max_age] at `now`."""
        today = self.now.date()
        oldest = date(today.year - max_age - 1, today.month, 1) + timedelta(days=32)
        youngest = date(today.year - min_age, today.month, 1) - timedelta(days=1)
        return oldest + timedelta(days=self.rng.randrange(max((youngest - oldest).days, 1)))

    def hexstr(self, n: int) -> str:
        """`n` lowercase hex characters."""
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def password_hash(self) -> str:
        """Something shaped like an argon2id hash (never a real password)."""
        return f"$argon2id$v=19$m=65536,t=3,p=4${self.hexstr(22)}${self.hexstr(43)}"

    def secret_hash(self, text: str) -> str:
        """A salted SHA-256 digest of a made-up answer."""
        return hashlib.sha256(f"{self.seed}:{text}".encode()).hexdigest()

    def cn_id_number(self, birth: date) -> str:
        """A well-formed 18-digit PRC resident ID for `birth` (GB 11643 check digit)."""
        body = f"{self.rng.choice(_AREA_CODES)}{birth:%Y%m%d}{self.rng.randrange(1000):03d}"
        total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
        return body + _ID_CHECK[total % 11]

    def mac(self) -> str:
        """A locally administered unicast MAC address."""
        first = (self.rng.randrange(256) | 0x02) & 0xFE
        return ":".join(f"{b:02x}" for b in [first, *(self.rng.randrange(256) for _ in range(5))])

    def ipv4(self) -> str:
        """A public-looking IPv4 address."""
        return f"{self.rng.choice((36, 58, 101, 113, 120, 183, 203, 74, 98))}.{self.rng.randrange(256)}." \
               f"{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"

    def user_agent(self) -> str:
        """A browser user agent string (from a small pool: real visitors share a few browsers)."""
        if not self._agents:
            self._agents = [self.en.user_agent() for _ in range(12)]
        return self.rng.choice(self._agents)
