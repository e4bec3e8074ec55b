"""Every data category and purpose the two seed policies name has a taxonomy entry (P1, P7, P8)."""

from __future__ import annotations

import pytest

from privet.taxonomy.loader import default_taxonomy

# (seed section, phrase in the policy, category key, PIPL sensitive kind or None)
CATEGORIES = [
    ("K1", "name", "user.name", None),
    ("K1", "personal phone number", "user.contact.phone", None),
    ("K1", "email address", "user.contact.email", None),
    ("K1", "ID card", "user.government_id.national_id", "identity_document"),
    ("K1", "passport", "user.government_id.passport", "identity_document"),
    ("K1", "work permit", "user.government_id.work_permit", "identity_document"),
    ("K1", "system account", "user.account.username", None),
    ("K1", "IP address", "user.device.ip_address", None),
    ("K1", "related passwords", "user.authorization.password", None),
    ("K1", "passcodes", "user.authorization.passcode", None),
    ("K1", "security question answers", "user.authorization.security_answer", None),
    ("K1", "occupation", "user.professional.occupation", None),
    ("K1", "position", "user.professional.position", None),
    ("K1", "employer", "user.professional.employer", None),
    ("K1", "educational background", "user.professional.education", None),
    ("K1", "degree", "user.professional.degree", None),
    ("K1", "website browsing history", "user.behavior.browsing_history", None),
    ("K1", "software usage records", "user.behavior.software_usage", None),
    ("K1", "click records", "user.behavior.clicks", None),
    ("K1", "hardware serial number", "user.device.serial_number", None),
    ("K1", "device MAC address", "user.device.mac_address", None),
    ("K1", "software list", "user.device.software_list", None),
    ("K1", "unique device identifier", "user.device.device_id", None),
    ("K1", "personal location information (including track)", "user.location.track", "location_track"),
    ("K1", "organization name", "user.organisation.name", None),
    ("K1", "number of employees", "user.organisation.employee_count", None),
    ("K1", "office address", "user.organisation.office_address", None),
    ("K1", "business revenue", "user.organisation.revenue", None),
    ("K1", "business license", "user.organisation.business_license", None),
    ("K1", "organization qualifications", "user.organisation.qualification", None),
    ("K1", "credit information", "user.organisation.credit", None),
    ("K1", "information of relevant responsible persons", "user.organisation.responsible_person", None),
    ("K2", "Cookies", "user.device.cookie_id", None),
    ("K2", "information obtained through Cookies", "user.device.cookie", None),
    ("K2", "the type of computer you use", "user.device.platform", None),
    ("K2", "clicks on tracked e-mail URLs", "user.behavior.clicks", None),
    ("K3(1)1", "mobile phone number", "user.contact.phone", None),
    ("K3(1)1", "SMS verification code", "user.authorization.passcode", None),
    ("K3(1)1", "WeChat Login authorization", "user.account.third_party_id", None),
    ("K3(1)1", "account name", "user.account.username", None),
    ("K3(1)1", "company name", "user.organisation.name", None),
    ("K3(1)1", "industry", "user.organisation.industry", None),
    ("K3(1)1", "province", "user.contact.address.province", None),
    ("K3(1)1", "Account Information", "user.account.profile", None),
    ("K3(1)2B", "training and certification results", "user.professional.training_record", None),
    ("K3(1)2E", "data you upload or download", "user.content.uploaded_file", None),
    ("K6", "children under 14", "user.minor", "minor"),
    ("Z1", "name", "user.name", None),
    ("Z1", "birth date", "user.demographic.date_of_birth", None),
    ("Z1", "mail address", "user.contact.address", None),
    ("Z1", "telephone number", "user.contact.phone", None),
    ("Z1", "mailbox address", "user.contact.email", None),
    ("Z1", "payment information", "user.financial.payment", "financial_account"),
    ("Z1", "video clip containing personal information", "user.content.video_clip", None),
    ("Z1", "occupation", "user.professional.occupation", None),
    ("Z1", "language", "user.demographic.language", None),
    ("Z1", "serial code", "user.device.serial_number", None),
    ("Z1", "automatically saved access data", "user.behavior.access_log", None),
    ("Z1", "product", "user.device.model", None),
    ("Z1", "unique identifier of your mobile device", "user.device.device_id", None),
    ("Z1", "operator logo of mobile devices", "user.device.operator", None),
    ("Z1", "device software platform and hardware information", "user.device.platform", None),
    ("Z2a", "product model", "user.device.model", None),
    ("Z2a", "purchase details", "user.behavior.purchase_history", None),
    ("Z2a", "unique serial code", "user.device.serial_number", None),
    ("Z2c", "mail / after-sale service / user-support tool", "user.communication.support", None),
    ("Z2e", "voice recording", "user.content.voice_recording", None),
    ("Z2e", "videos or sounds recorded by devices", "user.content.video_clip", None),
    ("Z2e", "screen capturing", "user.content.screen_capture", None),
    # A plain video or recording is not biometric (GB/T 35273, GDPR Recital 51); features extracted from it
    # to recognise a person are, and the biometric devices ZKTeco makes produce exactly those.
    ("Z2e", "faces recognised in video clips", "user.biometric.face", "biometric"),
    ("Z2e", "speakers recognised in voice recordings", "user.biometric.voiceprint", "biometric"),
    ("Z2e", "fingerprints enrolled on access-control devices", "user.biometric.fingerprint", "biometric"),
]

# (seed section, phrase, purpose key, purpose type)
PURPOSES = [
    ("K3(1)1", "Registering and Logging into Accounts", "service.account", "service"),
    (
        "K3(1)1",
        "verify your identity by sending an SMS verification code",
        "security.identity_verification",
        "security",
    ),
    ("K3(1)1", "become our partner ... relevant account registration", "partner.certification", "partner"),
    ("K3(1)2A", "fulfilling orders", "service.order", "service"),
    ("K3(1)2A", "delivering ... products or services", "service.delivery", "service"),
    ("K3(1)2A", "activating, or verifying products or services", "service.activation", "service"),
    ("K3(1)2A", "after-sales service", "service.after_sales", "service"),
    ("K3(1)2B", "Providing training and certification services", "training.courses", "training"),
    ("K3(1)2B", "managing and processing training and certification results", "training.certification", "training"),
    ("K3(1)2C", "participate in relevant online or offline activities", "service.events", "service"),
    (
        "K3(1)2D",
        "information you request (marketing materials, white papers)",
        "service.requested_information",
        "service",
    ),
    ("K3(1)2E", "Synchronizing, sharing, and storing data", "service.data_sync", "service"),
    ("K3(1)2F", "technical support", "service.support", "service"),
    (
        "K3(1)3(1)",
        "information about products and services you may be interested in",
        "marketing.communications",
        "marketing",
    ),
    ("K3(1)3(1)", "inviting you to participate in events", "marketing.events", "marketing"),
    ("K3(1)3(1)", "market research, or satisfaction surveys", "marketing.surveys", "marketing"),
    ("K3(1)3(1)", "sending you marketing information", "marketing", "marketing"),
    ("K3(1)3(1)", "personalized user experience and content", "marketing.personalisation", "marketing"),
    (
        "K3(1)3(1)",
        "data analysis ... effectiveness of our business operations",
        "analytics.business_performance",
        "analytics",
    ),
    ("K3(1)3(1)", "improve our products and services", "research.product_improvement", "research"),
    ("K3(1)3(1)", "maintain and enhance the security", "security", "security"),
    ("K3(1)3(2)", "Important Notices Such as Updates", "notice.updates", "notice"),
    ("K3(1)3(3)", "Certifying and Managing Partners", "partner.certification", "partner"),
    ("K3(1)3(3)", "Communicating or Conducting Business with Partners", "partner.business", "partner"),
    ("K3(1)4", "Complying with and Executing Relevant Laws", "legal", "legal"),
    ("K2", "analyze webpage usage", "analytics.usage", "analytics"),
    ("K2", "track this click to help us understand your preferences", "analytics.click_tracking", "analytics"),
    ("K3(2)", "entrust the processing of personal information", "sharing.processors", "sharing"),
    ("K3(3)1", "share ... with our affiliates", "sharing.affiliates", "sharing"),
    ("K3(3)1", "partners, and other third parties", "sharing.partners", "sharing"),
    ("K3(3)2A-C", "required by laws, judicial or administrative requests", "sharing.authorities", "sharing"),
    ("K3(3)2E", "protect ... legitimate rights and interests", "sharing.rights_protection", "sharing"),
    ("K3(4)2", "mergers, acquisitions, asset transfers, bankruptcy", "transfer.corporate", "transfer"),
    ("K3(5)", "Public Disclosure", "sharing.public_disclosure", "sharing"),
    ("K4", "access, update, correct, delete ... requests", "legal.rights_requests", "legal"),
    ("K8", "transferred to jurisdictions outside the country", "transfer.cross_border", "transfer"),
    ("K9", "notify you of material changes", "notice.policy_change", "notice"),
    ("Z3a", "Commencement of Order", "service.order", "service"),
    ("Z3a", "Delivery ... of products or services", "service.delivery", "service"),
    ("Z3a", "activation or authentication of products", "service.activation", "service"),
    ("Z3a", "technical supports", "service.support", "service"),
    ("Z3b", "e-mail ... to promote or advertise", "marketing.communications.email", "marketing"),
    ("Z3b", "SMS (including commercial ones)", "marketing.communications.sms", "marketing"),
    ("Z3b", "push notifications to promote", "marketing.communications.push", "marketing"),
    ("Z3b", "promote or advertise ZKTeco services and products", "marketing.advertising", "marketing"),
    ("Z3b", "important notifications (reminders, technical notifications, alarms ...)", "notice.service", "notice"),
    ("Z3c", "internal auditions", "analytics.internal_audit", "analytics"),
    ("Z3c", "data analysis and research in order to improve", "research", "research"),
    ("Z3d", "business operation efficiency and market shares", "analytics.business_performance", "analytics"),
    ("Z3e", "Investigating error", "service.troubleshooting", "service"),
    ("Z3f", "Synchronizing, sharing and storing", "service.data_sync", "service"),
    ("Z3g", "Improving our products and refinements", "research.product_improvement", "research"),
    ("Z3h", "Obeying and executing applicable legal requests", "legal", "legal"),
    ("Z2c", "authenticate your identity", "security.identity_verification", "security"),
    ("Z4a", "ZKTeco, its branch companies and subsidiary companies", "sharing.affiliates", "sharing"),
    ("Z4b", "third party service providers, suppliers or technician", "sharing.processors", "sharing"),
    ("Z4c", "law enforcement authorities or government authorities", "sharing.authorities", "sharing"),
    ("Z4d", "assets are sold or transferred", "transfer.corporate", "transfer"),
    ("Z4e", "anti-criminal activities ... anti-fraud activities", "security.fraud_prevention", "security"),
    ("Z4e", "protecting ZKTeco's legal rights and interests", "sharing.rights_protection", "sharing"),
    ("Z5", "financial accounting period", "legal.accounting", "legal"),
]


@pytest.mark.promise("P1")
@pytest.mark.parametrize(("where", "phrase", "key", "kind"), CATEGORIES, ids=[f"{c[0]}:{c[1]}" for c in CATEGORIES])
def test_seed_category_in_taxonomy(where: str, phrase: str, key: str, kind: str | None) -> None:
    taxonomy = default_taxonomy()
    assert key in taxonomy.categories, f"{where} names {phrase!r}; the taxonomy lacks {key}"
    assert taxonomy.sensitive_kind(key) == kind, f"{key} ({phrase}) should be sensitive={kind}"


@pytest.mark.parametrize(("where", "phrase", "key", "kind"), PURPOSES, ids=[f"{p[0]}:{p[1]}" for p in PURPOSES])
def test_seed_purpose_in_taxonomy(where: str, phrase: str, key: str, kind: str) -> None:
    purpose = default_taxonomy().purposes.get(key)
    assert purpose is not None, f"{where} names {phrase!r}; the taxonomy lacks {key}"
    assert purpose.type == kind


@pytest.mark.promise("P8", "P35")
def test_marketing_is_optional_but_notices_are_not() -> None:
    """P8/P35: the seeds let people refuse marketing but not important notices; the types keep them apart."""
    purposes = default_taxonomy().purposes
    marketing = {k for k, p in purposes.items() if p.type == "marketing"}
    notices = {k for k, p in purposes.items() if p.type == "notice"}
    assert {"marketing.communications.email", "marketing.communications.sms"} <= marketing
    assert {"notice.updates", "notice.service"} <= notices and not marketing & notices
    assert all(k.startswith("marketing") for k in marketing) and all(k.startswith("notice") for k in notices)
