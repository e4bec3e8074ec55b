"""Records of processing activities (GDPR Art 30; PIPL Art 54-56 record keeping) from the applied data map and
the registers: one entry per activity, as server-rendered HTML (templates/ropa.html) and CSV, in English or
Simplified Chinese (headings, taxonomy names and activity names that have a translation; free text written in the
data map and the registers stays as written)."""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.kit.csvsafe import safe_text
from privet.kit.errors import InvalidInput

if TYPE_CHECKING:
    from jinja2 import Environment

    from privet.datamap.schemas import Retention, TableRetention

CSV_COLUMNS = (
    "activity",
    "name",
    "description",
    "purpose",
    "purpose_name",
    "legal_basis",
    "legal_basis_name",
    "categories",
    "sensitive_categories",
    "subject_types",
    "recipients",
    "recipient_details",
    "processors",
    "processor_details",
    "datasets",
    "datastores",
    "storage_locations",
    "transfers",
    "retention",
    "table_retention",
    "registered_transfers",
    "impact_assessment",
)
LANGUAGES = ("en", "zh_CN")
FORMATS = ("html", "csv")


_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def period(text: str | None, t: dict) -> str:
    """`P2Y6M` → `2 years 6 months` / `2 年 6 个月`; anything else (a time part) as written."""
    found = _PERIOD.match(text or "")
    if not text or not found or not any(found.groups()):
        return text or ""
    parts = [t["units"][i][0 if int(n) == 1 else 1].format(n=n) for i, n in enumerate(found.groups()) if n]
    return t["unit_join"].join(parts)


def _retention(r: Retention | None, t: dict) -> str:
    if r is None:
        return ""
    trigger = t["triggers"].get(r.trigger, r.trigger)
    text = (
        t["after"].format(d=period(r.duration, t), trigger=trigger)
        if r.duration
        else t["until"].format(trigger=trigger)
    )
    return f"{text} ({r.description})" if r.description else text


def _table_rules(retention: TableRetention | list[TableRetention] | None) -> list[TableRetention]:
    """A table's retention rules: none, one, or several (each for some fields)."""
    return retention if isinstance(retention, list) else [retention] if retention else []


def _registered(session: Session, t: dict) -> tuple[dict[str, str], dict[str, str]]:
    """One line per registered processor and recipient (name, regions, agreement), keyed like the data map."""
    from privet.registers.models import Processor, Recipient

    processors = {}
    for p in session.execute(select(Processor)).scalars():
        agreement = t["agreement"].format(ref=p.agreement_ref) if p.agreement_ref else t["no_agreement"]
        if p.agreement_ref and p.expires_on:
            agreement += t["agreement_until"].format(day=p.expires_on.isoformat())
        processors[p.key] = f"{p.name} ({', '.join(p.regions or []) or t['no_region']}; {agreement})"
    recipients = {
        r.key: f"{r.name} ({t['kinds'].get(r.kind, r.kind)}{', ' + r.region if r.region else ''})"
        for r in session.execute(select(Recipient)).scalars()
    }
    return processors, recipients


def build(session: Session, lang: str = "en") -> dict:
    """The records as plain data: organisation, data map version, generation time and one entry per activity;
    names (activities, purposes, legal bases, categories, kinds of people) in `lang` where translated."""
    from privet.datamap.service import current, latest_version
    from privet.registers.crossborder_models import CrossBorderTransfer as T
    from privet.reports.models import ImpactAssessment as A
    from privet.taxonomy.service import effective

    t = labels(lang)
    manifest = current(session)
    if manifest is None:
        raise InvalidInput(
            "No data map is applied, so there is nothing to record",
            "apply the company's data map first: privet datamap apply PATH",
        )
    taxonomy = effective(session)
    version = latest_version(session)
    stores = {d.key: d for d in manifest.datastores}
    dataset_store = {d.key: d.datastore for d in manifest.datasets}
    table_rules = {
        d.key: [
            f"{d.key}.{tb.name}: "
            + t["after"].format(
                d=period(rule.duration, t),
                trigger=t["triggers"].get(rule.trigger, rule.trigger),
            )
            + ", "
            + t["actions"].get(rule.action.value, rule.action.value)
            + (t["by_law"].format(d=period(rule.legal_minimum, t)) if rule.legal_minimum else "")
            for tb in d.tables
            for rule in _table_rules(tb.retention)
        ]
        for d in manifest.datasets
    }
    registered = {
        k: (n, p)
        for k, n, p in session.execute(
            select(T.activity_key, func.count(), func.coalesce(func.sum(T.subject_count), 0))
            .where(T.activity_key.is_not(None))
            .group_by(T.activity_key)
        )
    }
    assessments: dict[str, str] = {}
    for key, ref, status in session.execute(
        select(A.activity_key, A.reference, A.status).where(A.status != "superseded").order_by(A.created_at)
    ):
        assessments[key] = t["assessment_state"].format(ref=ref, state=t["statuses"].get(status, status))
    processors, recipients = _registered(session, t)
    entries = []
    for a in manifest.processing_activities:
        cats = list(dict.fromkeys([*a.required_categories, *a.optional_categories]))
        store_keys = list(dict.fromkeys(dataset_store[d] for d in a.datasets if d in dataset_store))
        datastores = [{"key": k, "region": stores[k].region} for k in store_keys if k in stores]
        locations = a.storage_locations or list(dict.fromkeys(d["region"] for d in datastores))
        count, people = registered.get(a.key, (0, 0))
        entries.append(
            {
                "activity": a.key,
                "name": a.label(lang),
                "description": a.description or "",
                "purpose": a.purpose,
                "purpose_name": taxonomy.label("purposes", a.purpose, lang),
                "legal_basis": a.legal_basis,
                "legal_basis_name": taxonomy.label("legal_bases", a.legal_basis, lang),
                "categories": [
                    {
                        "key": c,
                        "name": taxonomy.label("categories", c, lang),
                        "required": c in a.required_categories,
                        "sensitive": taxonomy.sensitive_kind(c),
                        "sensitive_name": t["sensitive_kinds"].get(
                            taxonomy.sensitive_kind(c) or "", taxonomy.sensitive_kind(c)
                        ),
                    }
                    for c in cats
                ],
                "subject_types": [
                    {"key": s, "name": taxonomy.label("subject_types", s, lang)} for s in a.subject_types
                ],
                "recipients": list(a.recipients),
                "processors": list(a.processors),
                "datasets": list(a.datasets),
                "recipient_details": [f"{k}: {recipients.get(k, t['no_recipient'])}" for k in a.recipients],
                "processor_details": [f"{k}: {processors.get(k, t['no_processor'])}" for k in a.processors],
                "datastores": datastores,
                "storage_locations": locations,
                "transfers": [
                    {**x.model_dump(mode="json"), "mechanism_name": t["mechanisms"].get(x.mechanism or "", x.mechanism)}
                    for x in a.transfers
                ],
                "retention": _retention(a.retention, t),
                "table_retention": [r for d in a.datasets for r in table_rules.get(d, [])],
                "registered_transfers": {"count": count, "people": int(people)},
                "impact_assessment": assessments.get(a.key, ""),
            }
        )
    org = manifest.organisation
    return {
        "lang": lang,
        "organisation": org.model_dump(mode="json") if org else None,
        "datamap_version": version.number if version else None,
        "generated_at": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "activities": entries,
    }


def _cell(entry: dict, column: str, t: dict) -> str:
    value: Any = entry.get(column)  # JSON-shaped: a list, a dict or a string by column
    if column == "categories":
        return "; ".join(c["key"] for c in value)
    if column == "sensitive_categories":
        return "; ".join(c["key"] for c in entry["categories"] if c["sensitive"])
    if column == "subject_types":
        return "; ".join(s["key"] for s in value)
    if column == "datastores":
        return "; ".join(f"{d['key']} ({d['region']})" for d in value)
    if column == "transfers":
        return "; ".join(
            t["transfer"].format(dest=x["destination"], mech=x.get("mechanism") or t["no_mechanism"])
            + (t["transfer_to"].format(r=x["recipient"]) if x.get("recipient") else "")
            for x in value
        )
    if column == "registered_transfers":
        return t["registered"].format(c=value["count"], p=value["people"]) if value["count"] else ""
    if isinstance(value, list):
        return "; ".join(value)
    return str(value)


def to_csv(records: dict) -> str:
    """One row per activity; list cells joined with `; `. The header row is the column keys (stable for
    spreadsheets that read them) in English, or the keys' Chinese names in Chinese; keys stay in the cells."""
    t = labels(records.get("lang", "en"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([t["columns"].get(c, c) for c in CSV_COLUMNS] if records.get("lang") == "zh_CN" else CSV_COLUMNS)
    for entry in records["activities"]:
        writer.writerow([safe_text(_cell(entry, c, t)) for c in CSV_COLUMNS])
    return out.getvalue()


@cache
def _environment() -> Environment:  # jinja2 is imported lazily
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("privet.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def to_html(records: dict) -> str:
    """The records as one self-contained HTML page in the records' language."""
    lang = records.get("lang", "en")
    return (
        _environment()
        .get_template("ropa.html")
        .render(r=records, t=labels(lang), html_lang="zh-Hans" if lang == "zh_CN" else "en")
    )


def labels(lang: str) -> dict:
    """The words of the records in `lang`; an unknown language is refused."""
    if lang not in LANGUAGES:
        raise InvalidInput(f"Unknown language {lang!r}", f"use one of {', '.join(LANGUAGES)}")
    return LABELS[lang]


def render(session: Session, fmt: str, lang: str = "en") -> str:
    """The records in `html` or `csv`, in `lang` (en or zh_CN)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown format {fmt!r}", "use html or csv")
    labels(lang)
    records = build(session, lang)
    return to_html(records) if fmt == "html" else to_csv(records)


LABELS: dict[str, dict] = {
    "en": {
        "title": "Records of processing activities",
        "controller": "Controller",
        "profile": "Jurisdiction profile",
        "region": "region",
        "contact": "Responsible contact",
        "generated": "GDPR Art 30 / PIPL. Generated {at} from data map version {v}; {n} processing activities.",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "categories": "Categories of personal data",
        "subject_types": "Categories of people",
        "recipients": "Recipients",
        "processors": "Processors",
        "datasets": "Datasets and datastores",
        "locations": "Storage locations",
        "transfers": "Transfers abroad",
        "retention": "Retention",
        "assessment": "Impact assessment",
        "sensitive": "sensitive",
        "optional": "optional",
        "none": "none",
        "not_stated": "not stated",
        "no_mechanism": "NO MECHANISM",
        "transfer": "{dest} via {mech}",
        "transfer_to": " to {r}",
        "register": "register",
        "registered": "{c} transfers, {p} people",
        "after": "{d} after {trigger}",
        "until": "until {trigger}",
        "by_law": " (kept {d} by law)",
        "agreement": "agreement {ref}",
        "no_agreement": "NO AGREEMENT",
        "agreement_until": " until {day}",
        "no_region": "region not stated",
        "no_recipient": "not in the recipient register",
        "no_processor": "not in the processor register",
        "columns": {},
        "unit_join": " ",
        "units": (
            ("{n} year", "{n} years"),
            ("{n} month", "{n} months"),
            ("{n} week", "{n} weeks"),
            ("{n} day", "{n} days"),
        ),
        "actions": {"delete": "delete", "anonymise": "anonymise", "null": "clear the values"},
        "assessment_state": "{ref} ({state})",
        "statuses": {"draft": "draft", "concluded": "concluded", "superseded": "superseded"},
        "kinds": {
            "affiliate": "affiliate",
            "partner": "partner",
            "third_party": "other third party",
            "authority": "authority",
        },
        "mechanisms": {
            "standard_contract": "standard contract",
            "certification": "certification",
            "security_assessment": "security assessment",
            "exemption": "exemption",
            "adequacy": "adequacy decision",
            "sccs": "standard contractual clauses",
            "bcr": "binding corporate rules",
            "separate_consent": "separate consent",
        },
        "sensitive_kinds": {
            "biometric": "biometric",
            "identity_document": "identity document",
            "financial_account": "financial account",
            "health": "health",
            "location_track": "location track",
            "minor": "a child's information",
            "religious": "religious belief",
            "medical": "medical",
            "specific_identity": "specific identity",
        },
        "triggers": {
            "collection": "collection",
            "account_closure": "account closure",
            "last_activity": "the last activity",
            "contract_end": "the end of the contract",
            "accounting_period_end": "the end of the accounting period",
            "consent_withdrawal": "consent is withdrawn",
        },
    },
    "zh_CN": {
        "title": "个人信息处理活动记录",
        "controller": "个人信息处理者",
        "profile": "适用法域",
        "region": "地区",
        "contact": "负责联系人",
        "generated": "依据 GDPR 第 30 条 / 《个人信息保护法》。生成于 {at}，依据数据地图第 {v} 版；共 {n} 项处理活动。",
        "purpose": "处理目的",
        "legal_basis": "合法性基础",
        "categories": "个人信息种类",
        "subject_types": "个人类别",
        "recipients": "接收方",
        "processors": "受托处理者",
        "datasets": "数据集与数据存储",
        "locations": "存储地点",
        "transfers": "跨境传输",
        "retention": "保存期限",
        "assessment": "个人信息保护影响评估",
        "sensitive": "敏感",
        "optional": "可选",
        "none": "无",
        "not_stated": "未说明",
        "no_mechanism": "无传输机制",
        "transfer": "经 {mech} 传输至 {dest}",
        "transfer_to": "，接收方 {r}",
        "register": "登记册",
        "registered": "{c} 次传输，涉及 {p} 人",
        "after": "{trigger}后 {d}",
        "until": "直至 {trigger}",
        "by_law": "（依法至少保存 {d}）",
        "agreement": "协议 {ref}",
        "no_agreement": "无委托处理协议",
        "agreement_until": "，有效期至 {day}",
        "no_region": "地区未说明",
        "no_recipient": "未列入接收方登记册",
        "no_processor": "未列入受托处理者登记册",
        "columns": {
            "activity": "处理活动标识",
            "name": "处理活动名称",
            "description": "说明",
            "purpose": "处理目的标识",
            "purpose_name": "处理目的",
            "legal_basis": "合法性基础标识",
            "legal_basis_name": "合法性基础",
            "categories": "个人信息种类",
            "sensitive_categories": "敏感个人信息种类",
            "subject_types": "个人类别",
            "recipients": "接收方",
            "recipient_details": "接收方详情",
            "processors": "受托处理者",
            "processor_details": "受托处理者详情",
            "datasets": "数据集",
            "datastores": "数据存储",
            "storage_locations": "存储地点",
            "transfers": "跨境传输",
            "retention": "保存期限",
            "table_retention": "各表保存期限",
            "registered_transfers": "已登记的跨境传输",
            "impact_assessment": "个人信息保护影响评估",
        },
        "unit_join": " ",
        "units": (("{n} 年", "{n} 年"), ("{n} 个月", "{n} 个月"), ("{n} 周", "{n} 周"), ("{n} 天", "{n} 天")),
        "actions": {"delete": "删除", "anonymise": "匿名化", "null": "清空取值"},
        "assessment_state": "{ref}（{state}）",
        "statuses": {"draft": "草稿", "concluded": "已完成", "superseded": "已被取代"},
        "kinds": {"affiliate": "关联公司", "partner": "合作伙伴", "third_party": "其他第三方", "authority": "国家机关"},
        "mechanisms": {
            "standard_contract": "标准合同",
            "certification": "个人信息保护认证",
            "security_assessment": "安全评估",
            "exemption": "豁免",
            "adequacy": "充分性认定",
            "sccs": "标准合同条款",
            "bcr": "有约束力的公司规则",
            "separate_consent": "单独同意",
        },
        "sensitive_kinds": {
            "biometric": "生物识别",
            "identity_document": "身份证件",
            "financial_account": "金融账户",
            "health": "健康",
            "location_track": "行踪轨迹",
            "minor": "未成年人信息",
            "religious": "宗教信仰",
            "medical": "医疗",
            "specific_identity": "特定身份",
        },
        "triggers": {
            "collection": "收集",
            "account_closure": "注销账号",
            "last_activity": "最后一次活动",
            "contract_end": "合同终止",
            "accounting_period_end": "会计期间结束",
            "consent_withdrawal": "撤回同意",
        },
    },
}
