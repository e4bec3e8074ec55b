"""Every category and purpose named in each seed policy appears in that company's demo data map (P1, P7, P8)."""

from __future__ import annotations

import pytest

from privet.datamap.manifest import load_manifest
from privet.datamap.validate import taxonomy_for
from privet.settings import REPO_ROOT

# seed phrase (with its section) → the taxonomy key that must appear in the company's data map
KEPTEK_CATEGORIES = {
    "1 name": "user.name",
    "1 personal phone number": "user.contact.phone",
    "1 email address": "user.contact.email",
    "1 ID card": "user.government_id.national_id",
    "1 passport": "user.government_id.passport",
    "1 work permit": "user.government_id.work_permit",
    "1 system account": "user.account.username",
    "1 IP address": "user.device.ip_address",
    "1 passwords": "user.authorization.password",
    "1 passcodes": "user.authorization.passcode",
    "1 security question answers": "user.authorization.security_answer",
    "1 occupation": "user.professional.occupation",
    "1 position": "user.professional.position",
    "1 employer": "user.professional.employer",
    "1 educational background": "user.professional.education",
    "1 degree": "user.professional.degree",
    "1 website browsing history": "user.behavior.browsing_history",
    "1 software usage records": "user.behavior.software_usage",
    "1 click records": "user.behavior.clicks",
    "1 hardware serial number": "user.device.serial_number",
    "1 device MAC address": "user.device.mac_address",
    "1 software list": "user.device.software_list",
    "1 unique device identifier": "user.device.device_id",
    "1 personal location information (track)": "user.location.track",
    "1 organization name": "user.organisation.name",
    "1 number of employees": "user.organisation.employee_count",
    "1 office address": "user.organisation.office_address",
    "1 business revenue": "user.organisation.revenue",
    "1 business license": "user.organisation.business_license",
    "1 organization qualifications": "user.organisation.qualification",
    "1 credit information": "user.organisation.credit",
    "1 information of relevant responsible persons": "user.organisation.responsible_person",
    "2(1) Cookies": "user.device.cookie_id",
    "3(1)1 WeChat Login": "user.account.third_party_id",
    "3(1)1 company name, industry": "user.account.profile",
    "3(1)1 province": "user.contact.address.province",
    "6 children under the age of 14": "user.minor",
}
KEPTEK_PURPOSES = {
    "3(1)1 registering and logging into accounts": "service.account",
    "3(1)2A fulfilling orders": "service.order",
    "3(1)2A delivering, activating, or verifying products": "service.activation",
    "3(1)2A after-sales service": "service.after_sales",
    "3(1)2B providing training": "training.courses",
    "3(1)2B managing certification results": "training.certification",
    "3(1)2C online or offline activities": "service.events",
    "3(1)2D information you request (white papers)": "service.requested_information",
    "3(1)2E synchronizing, sharing and storing data": "service.data_sync",
    "3(1)2F technical support": "service.support",
    "3(1)3(1) promotional services": "marketing.communications",
    "3(1)3(1) inviting you to events": "marketing.events",
    "3(1)3(1) market research or satisfaction surveys": "marketing.surveys",
    "3(1)3(1) personalized user experience": "marketing.personalisation",
    "3(1)3(1) data analysis and research to improve products": "research.product_improvement",
    "3(1)3(1) security of websites, products, and services": "security",
    "3(1)3(2) important notices such as updates": "notice.updates",
    "3(1)3(3) certifying and managing partners": "partner.certification",
    "3(1)3(3) conducting business with partners": "partner.business",
    "3(1)4 complying with laws": "legal",
    "2(1) cookies to analyze webpage usage": "analytics.usage",
    "2(2) tracking clicks on e-mail links": "analytics.click_tracking",
    "3(2) entrusted processing": "sharing.processors",
    "3(3)1 sharing with affiliates": "sharing.affiliates",
    "3(3)1 sharing with partners": "sharing.partners",
    "3(3)2 A-C provision required by law, courts, authorities": "sharing.authorities",
    "3(3)2 E protecting public interests and safety": "sharing.rights_protection",
    "3(4) transfer in mergers and acquisitions": "transfer.corporate",
    "3(5) public disclosure": "sharing.public_disclosure",
    "4 access, correct, delete, withdraw consent": "legal.rights_requests",
    "8 global transfer": "transfer.cross_border",
}
ZKTECO_CATEGORIES = {
    "1 name": "user.name",
    "1 birth date": "user.demographic.date_of_birth",
    "1 mail address": "user.contact.address",
    "1 telephone number": "user.contact.phone",
    "1 mailbox address": "user.contact.email",
    "1 payment information": "user.financial.payment",
    "1 video clip": "user.content.video_clip",
    "1 occupation": "user.professional.occupation",
    "1 language": "user.demographic.language",
    "1 serial code": "user.device.serial_number",
    "1 automatically saved access data": "user.behavior.access_log",
    "1 unique identifier of your mobile device": "user.device.device_id",
    "1 operator logo of mobile devices": "user.device.operator",
    "1 device software platform and hardware information": "user.device.platform",
    "2a product model": "user.device.model",
    "2a purchase details": "user.behavior.purchase_history",
    "2c account information to authenticate": "user.account.user_id",
    "2e voice recording": "user.content.voice_recording",
    "2e screen capturing": "user.content.screen_capture",
    "3e error details": "user.communication.support",
}
ZKTECO_PURPOSES = {
    "2a register account": "service.account",
    "2a bind the device": "service.activation",
    "2b commercial operation": "partner.business",
    "3a commencement of order": "service.order",
    "3a delivery": "service.delivery",
    "3a technical supports": "service.support",
    "3b promote or advertise": "marketing.communications",
    "3b important notifications": "notice.service",
    "3c internal auditions": "analytics.internal_audit",
    "3c data analysis and research": "research",
    "3d business operation efficiency and market shares": "analytics.business_performance",
    "3e investigating errors": "service.troubleshooting",
    "3f synchronizing, sharing and storing data": "service.data_sync",
    "3g improving products": "research.product_improvement",
    "3h legal requests, industry standards": "legal",
    "4a branch and subsidiary companies": "sharing.affiliates",
    "4b third party service providers": "sharing.processors",
    "4c law enforcement or government authorities": "sharing.authorities",
    "4d assets sold or transferred": "transfer.corporate",
    "4e anti-fraud and audits": "security.fraud_prevention",
    "4e protecting legal rights and interests": "sharing.rights_protection",
    "5 financial accounting period": "legal.accounting",
    "5 access, correct, reject, delete": "legal.rights_requests",
    "7 no service to non-adult persons": "service.account.age_check",
    "8 globalized information management": "transfer.cross_border",
}
CASES = [("keptek", KEPTEK_CATEGORIES, KEPTEK_PURPOSES), ("zkteco", ZKTECO_CATEGORIES, ZKTECO_PURPOSES)]


@pytest.mark.promise("P1", "P7")
@pytest.mark.parametrize(("company", "categories", "purposes"), CASES, ids=[c[0] for c in CASES])
def test_seed_categories_and_purposes_are_in_the_data_map(company: str, categories: dict, purposes: dict) -> None:
    loaded = load_manifest(REPO_ROOT / "examples" / company / "datamap")
    m = loaded.manifest
    taxonomy, _ = taxonomy_for(loaded)
    used = {f.category for d in m.datasets for t in d.tables for f in t.fields if f.category}
    used |= {c for a in m.processing_activities for c in (*a.required_categories, *a.optional_categories)}
    in_use = {a.purpose for a in m.processing_activities}
    missing = {phrase: key for phrase, key in categories.items() if key not in used}
    assert missing == {}, "seed categories with no field or activity"
    missing = {phrase: key for phrase, key in purposes.items() if key not in in_use}
    assert missing == {}, "seed purposes with no processing activity"
    assert set(categories.values()) <= set(taxonomy.categories)
    assert set(purposes.values()) <= set(taxonomy.purposes)


def test_marketing_is_optional_and_notices_are_not() -> None:
    """P8/P35: marketing rests on consent, important notices on the contract (they cannot be refused)."""
    for company in ("keptek", "zkteco"):
        loaded = load_manifest(REPO_ROOT / "examples" / company / "datamap")
        taxonomy, _ = taxonomy_for(loaded)
        for act in loaded.manifest.processing_activities:
            kind = taxonomy.purposes[act.purpose].type
            if kind == "marketing":
                assert act.legal_basis == "consent", act.key
            if kind == "notice":
                assert act.legal_basis == "contract", act.key
