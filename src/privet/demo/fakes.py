"""Deterministic fake people for the demo databases: one `random.Random` plus seeded Faker (zh_CN, en_US).

Contact details can never reach a real person: e-mail addresses use domains reserved for documentation and
testing (RFC 2606/6761: example.com, .example, .test) and phone numbers come only from ranges regulators reserve
for drama and fiction (see `PHONE_RANGES`). The PRC reserves no such range, so the demo's Chinese customers carry
North American 555-01XX numbers too.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker  # imported at run time in Fakes: only the demo needs it

# A fixed "now" keeps the data byte-identical between runs: the Keptek policy's effective date.
ANCHOR = datetime(2025, 11, 28, 12, 0, 0)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_AREA_CODES = ("110101", "120101", "310104", "440305", "440106", "330106", "510107", "420102", "320102")

# Domains that never deliver mail to anyone (RFC 2606 and RFC 6761).
RESERVED_EMAIL_DOMAINS = ("example.com", "example.net", "mail.example", "post.example", "inbox.test")
# NANP area codes (all in service, so the numbers are well-formed); 555-0100 to 555-0199 in every one of them is
# reserved for fictional use (NANPA).
_NANP_AREAS = (
    201, 202, 203, 205, 206, 207, 208, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225, 228, 229, 231, 234,
    239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308,
    309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323, 330, 331, 334, 336, 337, 339, 347, 351, 352,
    360, 361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 424, 425, 430,
    432, 434, 435, 440, 443, 469, 470, 475, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512,
    513, 515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562, 563, 567, 570, 571, 573, 574, 575, 580, 585,
    586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631,
    636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716,
    717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 762, 763, 765, 770, 772, 773, 774, 775, 781,
    785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843,
    845, 847, 848, 850, 856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 872, 878, 901, 903, 904, 906, 907, 908,
    909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952,
    954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989)
# (prefix, digits after it) per pool: every number a pool can give is in a range reserved for fiction.
PHONE_RANGES: dict[str, tuple[tuple[str, int], ...]] = {
    # North America: NXX-555-0100..0199 (NANPA)
    "US": tuple((f"+1-{area}-555-01", 2) for area in _NANP_AREAS),
    # Germany: the Bundesnetzagentur's "Drama Numbers" (Mitteilung 148/2021): Berlin, Frankfurt, Hamburg, Cologne,
    # Munich, 1,000 each
    "DE": (("+49 30 23125", 3), ("+49 69 90009", 3), ("+49 40 66969", 3), ("+49 221 4710", 3), ("+49 89 99998", 3)),
    # Australia: the ACMA's fictitious numbers for radio, books, film and TV, (0x) 5550 xxxx and 7010 xxxx
    "AU": tuple((f"+61 {area} {block} ", 4) for area in (2, 3, 7, 8) for block in (5550, 7010)),
}
# Where a pool's numbers run out the next one continues, so large demos stay unique (about 112,000 numbers).
_OVERFLOW = {"US": ("US", "AU", "DE"), "DE": ("DE", "US", "AU")}


@dataclass
class Fakes:
    """Random sources for one generation run; every value comes from here, so a seed fixes everything."""

    seed: int
    now: datetime = ANCHOR
    rng: random.Random = field(init=False)
    cn: Faker = field(init=False)
    en: Faker = field(init=False)
    _used: dict[str, set] = field(init=False, default_factory=dict)
    _agents: list[str] = field(init=False, default_factory=list)
    _phones: dict[str, list[str]] = field(init=False, default_factory=dict)
    _phone_rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        try:
            from faker import Faker  # imported here: only the demo needs it
        except ImportError:
            from privet.kit.errors import InvalidInput

            raise InvalidInput("The demo generator needs the Faker package", "pip install faker") from None

        self.rng = random.Random(self.seed)
        self._phone_rng = random.Random(self.seed + 7)  # its own stream: numbers change nothing else
        self.cn, self.en = Faker("zh_CN"), Faker("en_US")
        self.cn.seed_instance(self.seed)
        self.en.seed_instance(self.seed + 1)

    def unique(self, kind: str, make: Callable[[], str]) -> str:
        """A value from `make()` not yet handed out for `kind` (suffixing a counter on a clash)."""
        used = self._used.setdefault(kind, set())
        value = make()
        n = 1
        while value in used:
            n += 1
            value = f"{make()}{n}"
        used.add(value)
        return value

    def email(self, fake: Faker, local: str) -> str:
        """`local@<a reserved domain>`: an address that reaches nobody."""
        return f"{local}@{fake.random_element(RESERVED_EMAIL_DOMAINS)}"

    def phone(self, country: str = "US") -> str:
        """A phone number nobody holds, unique in this run: from `country`'s range reserved for fiction (US or DE),
        then the other pools once it runs out."""
        for pool in _OVERFLOW.get(country, _OVERFLOW["US"]):
            numbers = self._phones.get(pool)
            if numbers is None:
                numbers = [f"{prefix}{n:0{width}d}" for prefix, width in PHONE_RANGES[pool] for n in range(10 ** width)]
                self._phone_rng.shuffle(numbers)
                self._phones[pool] = numbers
            if numbers:
                return numbers.pop()
        from privet.kit.errors import InvalidInput

        raise InvalidInput("The demo ran out of phone numbers reserved for fiction",
                           "generate fewer customers (at most about 100,000)")

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
