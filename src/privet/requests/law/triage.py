"""Triage rules: refusal reason codes, repeat detection and the fee past a reasonable number of requests.

The eight circumstances of GB/T 35273-2020 §8.7 (the list a controller "may not respond" under, copied as A–H into
the Keptek policy, K4) apply to requests based on §8.1–8.6: every type here except complaints, which are always
answered. Codes carry their own law reference and plain text in en and zh_CN; the refusal message adds where to
complain (see `privet.requests.messages.render`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from privet.kit.errors import InvalidInput
from privet.requests.models import TYPES

ANSWERED = tuple(t for t in TYPES if t != "complaint")  # complaints are never refused, only answered


@dataclass(frozen=True)
class RefusalReason:
    """One ground for refusing a request: its code, the law or policy it rests on, the text the person reads."""

    code: str
    law: str
    en: str
    zh_CN: str
    law_zh_CN: str
    applies_to: tuple[str, ...] = ANSWERED
    profiles: tuple[str, ...] = ("pipl", "gdpr", "ccpa")

    def text(self, language: str) -> str:
        """The reason in `language` (zh_CN, else English)."""
        return self.zh_CN if language == "zh_CN" else self.en

    def law_text(self, language: str) -> str:
        """The law or policy reference in `language` (zh_CN, else English)."""
        return self.law_zh_CN if language == "zh_CN" else self.law


_LAWS = {  # reference kind -> (English, Chinese); the GB/T one takes the circumstance's number
    "gbt": (
        "GB/T 35273-2020 (Personal information security specification) §8.7, circumstance {n}",
        "GB/T 35273-2020《信息安全技术 个人信息安全规范》第8.7条所列第{n}种情形",
    ),
    "policy": (
        "our privacy policy, section on exercising your rights (PIPL Art 50: reasons are always given)",
        "本组织隐私政策中关于行使个人信息权利的条款（《个人信息保护法》第五十条：拒绝须说明理由）",
    ),
    "art12": (
        "GDPR Art 12(5); California Civil Code §1798.145",
        "《通用数据保护条例》第十二条第五款；《加利福尼亚州民法典》第1798.145条",
    ),
}


def _reason(
    code: str, law: str, en: str, zh: str, *, n: int = 0, **extra: tuple[str, ...]
) -> tuple[str, RefusalReason]:
    law_en, law_zh = (text.format(n=n) for text in _LAWS[law])
    return code, RefusalReason(code, law_en, en, zh, law_zh, **extra)


_GBT, _POLICY_K4, _ART_12_5 = "gbt", "policy", "art12"
PIPL = ("pipl",)

REFUSAL_CODES: dict[str, RefusalReason] = dict(
    [
        # GB/T 35273-2020 §8.7: the eight circumstances, in the standard's order (Keptek policy K4 A–H).
        _reason(
            "legal_obligation",
            _GBT,
            "The request relates to obligations the law places on us, which we must keep meeting.",
            "该请求与我们履行法律法规规定的义务相关。",
            n=1,
            profiles=PIPL,
        ),
        _reason(
            "national_security",
            _GBT,
            "The request is directly related to national security or national defence.",
            "该请求与国家安全、国防安全直接相关。",
            n=2,
            profiles=PIPL,
        ),
        _reason(
            "public_interest",
            _GBT,
            "The request is directly related to public security, public health or a major public interest.",
            "该请求与公共安全、公共卫生、重大公共利益直接相关。",
            n=3,
            profiles=PIPL,
        ),
        _reason(
            "criminal_proceedings",
            _GBT,
            "The request is directly related to a criminal investigation, prosecution, trial or the enforcement "
            "of a judgment.",
            "该请求与刑事侦查、起诉、审判和执行判决等直接相关。",
            n=4,
            profiles=PIPL,
        ),
        _reason(
            "abuse_of_rights",
            _GBT,
            "We hold sufficient evidence that the request is made in bad faith or abuses the right.",
            "我们有充分证据表明该请求存在主观恶意或滥用权利。",
            n=5,
            profiles=PIPL,
        ),
        _reason(
            "vital_interests",
            _GBT,
            "The data is needed to protect the life, property or other major legitimate rights and interests of "
            "you or another person, and consent is hard to obtain.",
            "出于维护您或其他个人的生命、财产等重大合法权益但又很难得到本人授权同意。",
            n=6,
            profiles=PIPL,
        ),
        _reason(
            "serious_harm",
            _GBT,
            "Answering the request would seriously harm the legitimate rights and interests of you or of other "
            "people or organisations.",
            "响应该请求将导致您或其他个人、组织的合法权益受到严重损害。",
            n=7,
            profiles=PIPL,
        ),
        _reason(
            "trade_secret", _GBT, "The request concerns trade secrets.", "该请求涉及商业秘密。", n=8, profiles=PIPL
        ),
        # P16 (policy K4): requests we have reasonable grounds to believe are deceptive, unfeasible or infringing.
        _reason(
            "deceptive",
            _POLICY_K4,
            "We have reasonable grounds to believe the request is deceptive.",
            "我们有合理理由认为该请求具有欺骗性。",
        ),
        _reason(
            "unfeasible",
            _POLICY_K4,
            "We have reasonable grounds to believe the request cannot feasibly be carried out.",
            "我们有合理理由认为该请求无法实现。",
        ),
        _reason(
            "infringes_others_privacy",
            _POLICY_K4,
            "Carrying out the request would infringe other people's privacy.",
            "执行该请求将侵犯他人的隐私权。",
        ),
        # P19 (policy K4): excessive requests; repeats may instead cost a fee (`fee_due`, GB/T 35273-2020 §8.7).
        _reason(
            "groundlessly_repetitive",
            _POLICY_K4,
            "The request repeats earlier requests without a reason.",
            "该请求属于无端重复的请求。",
        ),
        _reason(
            "technically_excessive",
            _POLICY_K4,
            "The request needs excessive technical means, such as building a new system or fundamentally "
            "changing current practice.",
            "该请求需要过多的技术手段（例如需要开发新系统或从根本上改变现行惯例）。",
        ),
        _reason(
            "risk_to_others",
            _POLICY_K4,
            "The request puts the legitimate rights and interests of others at risk.",
            "该请求会给他人的合法权益带来风险。",
        ),
        _reason(
            "impractical",
            _POLICY_K4,
            "The request is highly impractical, for example it concerns information kept only on backup tapes.",
            "该请求非常不切实际（例如涉及备份磁带上存放的信息）。",
        ),
        # GDPR Art 12(5) and its CCPA counterpart: the controller must be able to show which applies.
        _reason(
            "manifestly_unfounded",
            _ART_12_5,
            "The request is manifestly unfounded.",
            "该请求明显缺乏依据。",
            profiles=("gdpr", "ccpa"),
        ),
        _reason(
            "manifestly_excessive",
            _ART_12_5,
            "The request is manifestly excessive, in particular because it repeats earlier requests.",
            "该请求明显过度，特别是因为其重复性。",
            profiles=("gdpr", "ccpa"),
        ),
    ]
)


def check_code(code: str, request_type: str, *, profile: str | None = None) -> RefusalReason:
    """The reason for `code` if it may refuse a request of `request_type` (and `profile`); else InvalidInput."""
    reason = REFUSAL_CODES.get(code)
    if reason is None:
        raise InvalidInput(f"Unknown refusal code {code!r}", f"use one of {', '.join(REFUSAL_CODES)}")
    if request_type not in reason.applies_to:
        usable = [c for c, r in REFUSAL_CODES.items() if request_type in r.applies_to]
        hint = (
            "complaints are answered, never refused"
            if request_type == "complaint"
            else f"codes for this type: {', '.join(usable)}"
        )
        raise InvalidInput(f"Refusal code {code!r} does not apply to {request_type!r} requests", hint)
    if profile is not None and profile not in reason.profiles:
        usable = [c for c, r in REFUSAL_CODES.items() if profile in r.profiles and request_type in r.applies_to]
        raise InvalidInput(
            f"Refusal code {code!r} is not a ground under the {profile} profile",
            f"codes for this profile: {', '.join(usable)}",
        )
    return reason


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the store keeps naive UTC on SQLite


def repeat_of(earlier: Iterable[tuple[str, datetime]], now: datetime, window_days: int) -> str | None:
    """The id of the latest earlier request received within `window_days` before `now`, or None."""
    since = _aware(now) - timedelta(days=window_days)
    inside = [(_aware(at), rid) for rid, at in earlier if since <= _aware(at) <= _aware(now)]
    return max(inside)[1] if inside else None


_FEE = re.compile(
    r"^\s*(?:(?P<a1>\d+(?:\.\d{1,2})?)\s*(?P<c1>[A-Za-z]{3})|(?P<c2>[A-Za-z]{3})\s*"
    r"(?P<a2>\d+(?:\.\d{1,2})?))\s*$"
)


def parse_fee(setting: str | None) -> tuple[Decimal, str] | None:
    """`"20 CNY"` → (Decimal("20"), "CNY"); None when unset; InvalidInput when it cannot be read."""
    if setting is None or not setting.strip():
        return None
    match = _FEE.match(setting)
    hint = "set PRIVET_REQUESTS_FEE to an amount and an ISO 4217 currency, e.g. `20 CNY` or `15.50 EUR`"
    if not match:
        raise InvalidInput("PRIVET_REQUESTS_FEE is not an amount with a currency", hint)
    try:
        amount = Decimal(match["a1"] or match["a2"])
    except InvalidOperation:
        raise InvalidInput("PRIVET_REQUESTS_FEE has an unreadable amount", hint) from None
    if amount <= 0:
        raise InvalidInput(
            "PRIVET_REQUESTS_FEE must be more than zero",
            "leave it unset to have such requests flagged for an officer instead",
        )
    return amount, (match["c1"] or match["c2"]).upper()


def fee_due(count_in_window: int, free: int, fee_setting: str | None) -> dict | None:
    """The fee for the `count_in_window`th request (this one included) of a type in the window; None if free.

    Past the free number: `{"amount": "20.00", "currency": "CNY", "reason": ...}`; with no fee configured the
    amount and currency are None and `"action": "flag_for_officer"` asks an officer to decide (charge, answer, or
    refuse as groundlessly repetitive / manifestly excessive).
    """
    fee = parse_fee(fee_setting)  # a bad setting is an error even when this request is free
    if count_in_window <= free:
        return None
    reason = (
        f"request {count_in_window} of this type within the window; {free} are free "
        "(GB/T 35273-2020 §8.7 c; GDPR Art 12(5))"
    )
    if fee is None:
        return {"amount": None, "currency": None, "reason": reason, "action": "flag_for_officer"}
    amount, currency = fee
    return {"amount": f"{amount:.2f}", "currency": currency, "reason": reason, "action": "charge"}
