"""Grounds for providing or disclosing personal data without the person's consent (P11, P13, P37, P39).

Every ground either policy names is a code with its policy reference and its text in English and Chinese:
Keptek 3(3)2 A–F (sharing) and 3(5)2 (public disclosure), ZKTeco 4 a–e (sharing). The grounds of the law itself
(GB/T 35273-2020 §9.5, PIPL Art 13) are codes too. A company's policy declares which of them it has
(`privet.registers.policy`); a share or disclosure names one and gives a reference (the law, the court order, the
authority's letter, the agreement or the data map activity it rests on). This module is the catalogue only.
"""

from __future__ import annotations

from dataclasses import dataclass

from privet.kit.errors import InvalidInput, Problem

SHARE, DISCLOSURE = "share", "disclosure"
LAW = "law"  # the `policy` of the grounds that come from the law, not from a company's policy text
POLICIES = {
    LAW: ("The law (GB/T 35273-2020, PIPL)", "法律法规（GB/T 35273-2020、《个人信息保护法》）"),
    "keptek": ("Keptek privacy policy", "Keptek 隐私政策"),
    "zkteco": ("ZKTeco privacy protection policy", "ZKTeco 隐私保护政策"),
}


@dataclass(frozen=True)
class Ground:
    """One ground: its code, whose text it is (`law`, `keptek`, `zkteco`), the section it comes from, its text,
    what it may be used for (shares, public disclosures) and what its reference names."""

    code: str
    policy: str
    section: str
    en: str
    zh_CN: str
    uses: tuple[str, ...] = (SHARE,)
    asks: str = "the law, court order or authority's letter it rests on"

    def label(self, lang: str = "en") -> str:
        """The ground's text in English or Chinese."""
        return self.zh_CN if lang == "zh_CN" else self.en

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "policy": self.policy,
            "section": self.section,
            "en": self.en,
            "zh_CN": self.zh_CN,
            "uses": list(self.uses),
            "asks": self.asks,
        }


_GBT, _PIPL = "GB/T 35273-2020 §9.5", "PIPL Art 13"
_BOTH = (SHARE, DISCLOSURE)
_ALL = [
    # --- the law: GB/T 35273-2020 §9.5 exceptions to consent, PIPL Art 13 ---
    Ground(
        "national_security",
        LAW,
        _GBT,
        "Directly related to national security or national defence security",
        "与国家安全、国防安全直接相关",
        _BOTH,
    ),
    Ground(
        "public_safety_health",
        LAW,
        _GBT,
        "Directly related to public safety, public health or a major public interest",
        "与公共安全、公共卫生、重大公共利益直接相关",
        _BOTH,
    ),
    Ground(
        "criminal_investigation",
        LAW,
        _GBT,
        "Directly related to criminal investigation, prosecution, trial or execution of judgments",
        "与刑事侦查、起诉、审判和判决执行等直接相关",
        _BOTH,
    ),
    Ground(
        "life_property",
        LAW,
        _GBT,
        "To protect the life, property or other major rights of the person or others when consent is hard to obtain",
        "出于维护个人信息主体或其他个人的生命、财产等重大合法权益但又很难得到本人同意",
        _BOTH,
    ),
    Ground(
        "made_public",
        LAW,
        _GBT,
        "Information the person made public themselves",
        "个人信息主体自行向社会公众公开的个人信息",
        _BOTH,
    ),
    Ground(
        "lawful_public_info",
        LAW,
        _GBT,
        "Information from lawfully and publicly disclosed sources (news reports, government information)",
        "从合法公开披露的信息中收集的个人信息，如合法的新闻报道、政府信息公开等渠道",
        _BOTH,
    ),
    Ground("law_required", LAW, _PIPL, "Required by applicable laws and regulations", "根据适用的法律法规要求", _BOTH),
    Ground(
        "judicial_procedure",
        LAW,
        _PIPL,
        "Required to comply with a judicial judgment or other legal procedure",
        "根据司法判决或其他法律程序的要求",
        _BOTH,
    ),
    Ground(
        "authority_request",
        LAW,
        _PIPL,
        "Requested by an administrative agency or another legally authorised organisation",
        "根据行政机关或其他有权机关的要求",
        _BOTH,
    ),
    # --- Keptek 3(3)2 A–F: sharing without consent; 3(5)2: public disclosure required by law ---
    Ground(
        "keptek_a",
        "keptek",
        "3(3)2 A",
        "Provision required by applicable laws and regulations",
        "根据适用的法律法规要求提供",
        asks="the law or regulation that requires it",
    ),
    Ground(
        "keptek_b",
        "keptek",
        "3(3)2 B",
        "Provision required to comply with judicial judgments or other legal procedures",
        "根据司法判决或其他法律程序的要求提供",
        asks="the judgment or legal procedure",
    ),
    Ground(
        "keptek_c",
        "keptek",
        "3(3)2 C",
        "Provision required by requests from administrative agencies or other legally authorised organisations",
        "根据行政机关或其他有权机关的要求提供",
        asks="the agency's request (its letter or reference)",
    ),
    Ground(
        "keptek_d",
        "keptek",
        "3(3)2 D",
        "Provision for achieving the purposes for collecting and using personal information",
        "为实现“个人信息收集和使用的目的”而提供",
        asks="the data map activity whose purpose the provision serves",
    ),
    Ground(
        "keptek_e",
        "keptek",
        "3(3)2 E",
        "Provision within the scope permitted by law to safeguard public "
        "interests, or to protect the personal and property safety or legitimate rights and interests of the "
        "company, its affiliates or partners, the person or other users from damage",
        "在法律允许的范围内，为维护社会公共利益，或保护本公司、其关联公司或合作伙伴、您或其他用户的人身财产安全或合法权益免遭损害而提供",
        asks="what is protected and the law that permits it (a case or incident reference)",
    ),
    Ground(
        "keptek_f",
        "keptek",
        "3(3)2 F",
        "Provision under other circumstances permitted by laws and regulations or agreed upon in the policy",
        "法律法规允许或本政策约定的其他情形",
        asks="the provision of law or of the policy that allows it",
    ),
    Ground(
        "keptek_disclosure",
        "keptek",
        "3(5)2",
        "Public disclosure required by law, legal process, litigation "
        "or mandatory requirements of government authorities, minimised",
        "根据法律、法律程序、诉讼或政府主管部门的强制性要求公开披露，并尽量减少披露的内容",
        (DISCLOSURE,),
        asks="the law, legal process, litigation or authority's requirement",
    ),
    # --- ZKTeco 4 a–e: sharing ---
    Ground(
        "zkteco_a",
        "zkteco",
        "4 a",
        "Sharing with the company's branch companies and subsidiary companies, to serve the person",
        "基于为您服务的原则，与本公司、其分公司及子公司共享相关信息",
        asks="the intra-group agreement",
    ),
    Ground(
        "zkteco_b",
        "zkteco",
        "4 b",
        "Sharing with third-party service providers, suppliers or technicians "
        "appointed for data transfer or management, who may use it for nothing else",
        "委托第三方服务提供商、供应商或技术人员进行数据传输或管理时与其共享，除上述目的外其不得使用您的信息",
        asks="the service agreement",
    ),
    Ground(
        "zkteco_c",
        "zkteco",
        "4 c",
        "Sharing with law enforcement or government authorities upon their request",
        "应执法机关或政府主管部门的要求与其共享您的个人数据",
        asks="the authority's request",
    ),
    Ground(
        "zkteco_d",
        "zkteco",
        "4 d",
        "Personal data sold or transferred as part of the company's assets when they are sold or transferred",
        "本公司部分或全部资产被出售或转让时，您的个人数据可能作为资产的一部分被出售或转让",
        asks="the deal or contract",
    ),
    Ground(
        "zkteco_e",
        "zkteco",
        "4 e",
        "Sharing necessary information, without violating the law, to protect "
        "the company's legal rights and interests, to support audits, anti-fraud and other anti-crime work, or "
        "for the company's management needs",
        "在不违反法律法规的前提下，为保护本公司的合法权益，为支持审计、反欺诈等打击犯罪活动，或出于本公司的管理需要，共享您必要的个人信息",
        asks="the audit, fraud case or management need (its reference)",
    ),
]
CATALOGUE: dict[str, Ground] = {g.code: g for g in _ALL}
GROUNDS: dict[str, tuple[str, str]] = {g.code: (g.en, g.zh_CN) for g in _ALL}  # code → (en, zh_CN)
LAW_GROUNDS: list[str] = [g.code for g in _ALL if g.policy == LAW]


def get(code: str) -> Ground:
    """The ground with this code (KeyError for an unknown one)."""
    return CATALOGUE[code]


def of_policy(policy: str) -> list[str]:
    """The codes of one policy's own grounds (`keptek`, `zkteco`) or of the law (`law`)."""
    return [g.code for g in _ALL if g.policy == policy]


def label(code: str, lang: str = "en") -> str:
    """The ground's description in English or Chinese."""
    return CATALOGUE[code].label(lang)


def reference_of(code: str) -> str:
    """Where the ground is written: `Keptek privacy policy 3(3)2 D`, `GB/T 35273-2020 §9.5`."""
    g = CATALOGUE[code]
    return g.section if g.policy == LAW else f"{POLICIES[g.policy][0]} {g.section}"


def unknown(code: object, where: str = "legal_ground") -> InvalidInput:
    """The error for a code that is not in the catalogue."""
    return InvalidInput(
        f"Unknown legal ground {code!r}",
        "use one of: " + ", ".join(CATALOGUE),
        [Problem(f"unknown legal ground {code!r}", where, "list them with privet registers grounds")],
    )


def check_ground(
    code: str | None,
    reference: str | None,
    allowed: list[str] | None = None,
    *,
    policy: list[str] | None = None,
    use: str = SHARE,
) -> tuple[str, str]:
    """(code, reference) of a ground; InvalidInput for an unknown code, a missing reference, a ground the
    company's policy does not have (`policy`: its declared codes), one that does not serve this `use`, or one the
    recipient is not registered for (`allowed`)."""
    if code not in CATALOGUE:
        raise unknown(code)
    ground = CATALOGUE[code]
    if policy is not None and code not in policy:
        raise InvalidInput(
            f"The company's privacy policy has no ground {code!r} ({reference_of(code)}): nothing "
            "was shared, disclosed or recorded",
            "use a ground the policy declares (" + (", ".join(policy) or "none declared") + "; see "
            "privet registers grounds) or declare it with privet registers policy",
            [Problem("not a ground of the company's policy", "legal_ground")],
        )
    if use not in ground.uses:
        raise InvalidInput(
            f"The ground {code!r} ({reference_of(code)}) does not allow a {use}",
            "use a ground written for it (privet registers grounds)",
            [Problem(f"not a ground for a {use}", "legal_ground")],
        )
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(
            "A legal ground needs a reference", f"give {ground.asks} (--reference)", [Problem("missing", "reference")]
        )
    if len(reference) > 200:
        raise InvalidInput(
            "The reference is longer than 200 characters", "shorten it", [Problem("too long", "reference")]
        )
    if allowed and code not in allowed:
        raise InvalidInput(
            f"The recipient is not registered for the legal ground {code!r}",
            "use one of its grounds (" + ", ".join(allowed) + ") or add this one to the recipient",
            [Problem("not allowed for this recipient", "legal_ground")],
        )
    return code, reference
