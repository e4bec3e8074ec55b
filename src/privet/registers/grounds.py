"""Legal grounds for providing or disclosing personal data without the person's consent (P11, P13, P37).

The codes follow the seed policy's exceptions (GB/T 35273-2020 §9.5 a–f and Keptek 3(3)2 A–F, 3(5)2) and PIPL
Art 13; every use of one is recorded with a reference (the law, the court order, the authority's letter).
"""

from __future__ import annotations

from privet.kit.errors import InvalidInput, Problem

GROUNDS: dict[str, tuple[str, str]] = {
    "national_security": ("Directly related to national security or national defence security",
                          "与国家安全、国防安全直接相关"),
    "public_safety_health": ("Directly related to public safety, public health or a major public interest",
                             "与公共安全、公共卫生、重大公共利益直接相关"),
    "criminal_investigation": ("Directly related to criminal investigation, prosecution, trial or execution of "
                               "judgments", "与刑事侦查、起诉、审判和判决执行等直接相关"),
    "life_property": ("To protect the life, property or other major rights of the person or others when consent "
                      "is hard to obtain", "出于维护个人信息主体或其他个人的生命、财产等重大合法权益但又很难得到本人同意"),
    "made_public": ("Information the person made public themselves", "个人信息主体自行向社会公众公开的个人信息"),
    "lawful_public_info": ("Information from lawfully and publicly disclosed sources (news reports, government "
                           "information)", "从合法公开披露的信息中收集的个人信息，如合法的新闻报道、政府信息公开等渠道"),
    "law_required": ("Required by applicable laws and regulations", "根据适用的法律法规要求"),
    "judicial_procedure": ("Required to comply with a judicial judgment or other legal procedure",
                           "根据司法判决或其他法律程序的要求"),
    "authority_request": ("Requested by an administrative agency or another legally authorised organisation",
                          "根据行政机关或其他有权机关的要求"),
}


def label(code: str, lang: str = "en") -> str:
    """The ground's description in English or Chinese."""
    en, zh = GROUNDS[code]
    return zh if lang == "zh_CN" else en


def check_ground(code: str | None, reference: str | None, allowed: list[str] | None = None) -> tuple[str, str]:
    """(code, reference) of a legal ground; InvalidInput for an unknown code, a missing reference or a ground the
    recipient is not registered for."""
    if code not in GROUNDS:
        raise InvalidInput(f"Unknown legal ground {code!r}", "use one of: " + ", ".join(GROUNDS),
                           [Problem(f"unknown legal ground {code!r}", "legal_ground")])
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput("A legal ground needs a reference", "give the law, court order or authority's letter "
                           "the provision rests on (--reference)", [Problem("missing", "reference")])
    if allowed and code not in allowed:
        raise InvalidInput(f"The recipient is not registered for the legal ground {code!r}",
                           "use one of its grounds (" + ", ".join(allowed) + ") or add this one to the recipient",
                           [Problem("not allowed for this recipient", "legal_ground")])
    return code, reference
