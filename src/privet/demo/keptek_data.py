"""Rows for Keptek's demo datastores, built from one seed (the generator inserts them in foreign-key order)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from privet.demo.fakes import Fakes

PRODUCTS = [
    ("KT-GW100", "Edge gateway GW100", "device", "2999.00"),
    ("KT-GW300", "Edge gateway GW300", "device", "5999.00"),
    ("KT-TAB8", "Field tablet T8", "device", "3299.00"),
    ("KT-TRK2", "Asset tracker TRK2", "device", "899.00"),
    ("KT-SW-OPS", "Ops suite licence (1 year)", "software", "12000.00"),
    ("KT-SW-VIS", "Vision analytics licence", "software", "8800.00"),
    ("KT-SVC-INS", "On-site installation", "service", "1500.00"),
    ("KT-SVC-EXT", "Extended warranty (3 years)", "service", "990.00"),
]
DEVICE_SKUS = {"KT-GW100": "GW100", "KT-GW300": "GW300", "KT-TAB8": "T8", "KT-TRK2": "TRK2"}
COURSES = [("KCA-101", "Keptek Certified Associate: platform basics", "associate"),
           ("KCA-201", "Gateway installation and commissioning", "associate"),
           ("KCP-301", "Keptek Certified Professional: operations", "professional"),
           ("KCP-302", "Vision analytics deployment", "professional"),
           ("KCE-401", "Keptek Certified Expert: architecture", "expert")]
EVENTS = [("Keptek partner summit", "offline"), ("Smart factory webinar", "online"), ("Edge computing day", "offline"),
          ("Product launch: GW300", "online"), ("Channel partner training camp", "offline")]
CAMPAIGNS = [("Monthly newsletter", "marketing"), ("Firmware 4.2 update notice", "notice"),
             ("White paper: edge AI", "marketing"), ("Partner programme invitation", "marketing"),
             ("Service terms update", "notice")]
EDUCATION = [("high_school", None), ("college", "associate"), ("bachelor", "BEng"), ("bachelor", "BSc"),
             ("master", "MEng"), ("master", "MBA"), ("doctorate", "PhD")]
QUESTIONS = ["Name of your first school?", "City where you were born?", "Your first pet's name?"]
PACKAGES = ["keptek-agent", "keptek-vision", "openssl", "python3", "nginx", "mosquitto", "wps-office", "wechat"]
URLS = ["/", "/products/gw100", "/products/gw300", "/solutions/factory", "/support", "/training", "/partners",
        "/downloads/whitepaper-edge-ai", "/news/launch-gw300", "/privacy"]
CITIES = [("北京市", 39.9042, 116.4074), ("天津市", 39.3434, 117.3616), ("上海市", 31.2304, 121.4737),
          ("深圳市", 22.5431, 114.0579), ("成都市", 30.5728, 104.0668)]


def build(f: Fakes, customers: int) -> dict[str, list[dict]]:
    """All Keptek rows: table name → rows (explicit ids, so links across datastores line up)."""
    out: dict[str, list[dict]] = {}
    out["organisations"] = [_organisation(f, i) for i in range(1, max(3, customers // 8) + 1)]
    out["products"] = [{"id": i, "sku": s, "name": n, "category": c, "price_cny": Decimal(p)}
                       for i, (s, n, c, p) in enumerate(PRODUCTS, 1)]
    people = [_customer(f, i, len(out["organisations"])) for i in range(1, customers + 1)]
    out["customers"] = [row for row, _ in people]
    for key in ("customer_addresses", "orders", "order_lines", "support_tickets", "partners", "event_registrations",
                "material_requests", "survey_responses", "devices", "device_software", "device_locations",
                "device_files", "device_usage_logs", "enrolments", "certificates", "web_sessions", "page_views",
                "email_clicks"):
        out[key] = []
    out["events"] = [{"id": i, "title": t, "kind": k, "city": f.rng.choice(CITIES)[0], "starts_at": f.ago(700)}
                     for i, (t, k) in enumerate(EVENTS, 1)]
    out["courses"] = [{"id": i, "code": c, "title": t, "level": lv} for i, (c, t, lv) in enumerate(COURSES, 1)]
    out["course_sessions"] = [{"id": 3 * (c - 1) + k, "course_id": c, "delivery": f.rng.choice(["online", "offline"]),
                               "city": f.rng.choice(CITIES)[0], "starts_at": f.ago(900, 10)}
                              for c in range(1, len(COURSES) + 1) for k in (1, 2, 3)]
    out["email_campaigns"] = [{"id": i, "name": n, "kind": k, "sent_at": f.ago(500, 5)}
                              for i, (n, k) in enumerate(CAMPAIGNS, 1)]
    for customer, document in people:
        _customer_life(f, customer, document, out)
    for _ in range(customers // 2):  # visitors who never logged in: cookie only
        _web_session(f, None, out)
    _invitations(f, out)  # derived from the rows above without further draws, so they stay as they were
    _secondary_users(f, out["customers"])
    return out


def _invitations(f: Fakes, out: dict[str, list[dict]]) -> None:
    """An invitation before each registration that followed one (marketing.events consent, 3(1)3(1)); people who
    are no longer opted in to marketing withdrew after their last invitation."""
    customers = {c["id"]: c for c in out["customers"]}
    out["event_invitations"] = []
    last: dict[int, datetime] = {}
    for reg in out["event_registrations"]:
        if not reg["invited"]:
            continue
        c = customers[reg["customer_id"]]
        sent = max(c["created_at"], reg["registered_at"] - timedelta(days=10))
        out["event_invitations"].append({"id": len(out["event_invitations"]) + 1, "event_id": reg["event_id"],
                                         "customer_id": c["id"], "channel": "email" if c["email"] else "sms",
                                         "sent_at": sent})
        last[c["id"]] = max(sent, last.get(c["id"], sent))
    for c in out["customers"]:
        sent = last.get(c["id"])
        c["marketing_opt_out_at"] = (min(f.now - timedelta(days=1), sent + timedelta(days=14 + c["id"] % 200))
                                     if sent is not None and not c["marketing_opt_in"] else None)


def _secondary_users(f: Fakes, customers: list[dict]) -> None:
    """Secondary users of another customer's account: every child under 14 on the nearest adult account before
    theirs (a parent letting a child use the family's account), and one adult in fifteen on a colleague's."""
    cut = f.now.date().replace(year=f.now.year - 18)
    holder = None
    for c in customers:
        adult = c["birth_date"] <= cut
        child = c["birth_date"] > f.now.date().replace(year=f.now.year - 14)
        c["main_account_id"] = holder if holder and (child or (adult and c["id"] % 15 == 0)) else None
        if adult and c["main_account_id"] is None:
            holder = c["id"]


def _organisation(f: Fakes, i: int) -> dict:
    return {"id": i, "name": f.unique("org", f.cn.company), "credit_code": f"91{f.rng.randrange(10**15):015d}X",
            "industry": f.rng.choice(["manufacturing", "logistics", "energy", "retail", "education"]),
            "employee_count": f.rng.choice([12, 45, 180, 650, 2400, 12000]),
            "annual_revenue_cny": f.rng.randrange(1, 5000) * 100_000, "office_address": f.cn.address(),
            "qualification": f.rng.choice(["ISO 9001", "ISO 27001", "high-tech enterprise", None]),
            "credit_rating": f.rng.choice(["AAA", "AA", "A", "BBB"]), "legal_representative": f.cn.name(),
            "contact_phone": f.phone(), "created_at": f.ago(2000, 900)}


def _customer(f: Fakes, i: int, organisations: int) -> tuple[dict, tuple[str, str] | None]:
    """A customer row, and the identity document a partner shows for certification (type, number)."""
    chinese = f.chance(0.75)
    fake = f.cn if chinese else f.en
    roll = f.rng.random()
    birth = f.birth_date(10, 13) if roll < 0.03 else f.birth_date(14, 17) if roll < 0.07 else f.birth_date(18, 68)
    partner = roll >= 0.07 and f.chance(0.15)
    doc_type = ("id_card" if chinese else f.rng.choice(["passport", "work_permit"])) if partner else None
    doc_no = f.cn_id_number(birth) if doc_type == "id_card" else f.en.passport_number() if doc_type else None
    mobile = f.phone()  # a range reserved for fiction (the PRC has none): unique, reaches nobody
    created = f.ago(1400, 30)
    education, degree = f.rng.choice(EDUCATION)
    adult = roll >= 0.07
    row = {
        "id": i, "organisation_id": f.rng.randrange(1, organisations + 1) if adult and f.chance(0.6) else None,
        "mobile": mobile, "username": mobile if f.chance(0.7) else f"{f.en.user_name()}{i}",
        "email": f.email(fake, f"{f.en.user_name()}{i}") if f.chance(0.85) else None,
        "name": fake.name(), "wechat_openid": f"o{f.hexstr(27)}" if chinese and f.chance(0.5) else None,
        "password_hash": f.password_hash(), "security_question": f.rng.choice(QUESTIONS),
        "security_answer_hash": f.secret_hash(fake.word()),
        "occupation": fake.job() if adult else None, "position": f.rng.choice(["engineer", "manager", "director",
                                                                                "technician"]) if adult else None,
        "employer": fake.company() if adult and f.chance(0.8) else None, "education": education if adult else None,
        "degree": degree if adult else None,
        "industry": f.rng.choice(["manufacturing", "logistics", "energy", "retail", "education", None]),
        "province": f.cn.province(), "birth_date": birth,
        "guardian_consent_at": created if roll < 0.05 and f.chance(0.5) else None,
        "marketing_opt_in": f.chance(0.4), "created_at": created,
        "last_active_at": f.between(created, f.now), "closed_at": f.ago(20) if f.chance(0.05) else None,
    }
    return row, ((doc_type, doc_no) if doc_type and doc_no else None)  # a document type always comes with its number


def _customer_life(f: Fakes, c: dict, document: tuple[str, str] | None, out: dict[str, list[dict]]) -> None:
    """Everything one customer leaves behind across the four datastores."""
    cid, t0 = c["id"], c["created_at"]
    addresses = []
    for k in range(f.rng.choice([1, 1, 2])):
        row = {"id": len(out["customer_addresses"]) + 1, "customer_id": cid, "label": ["office", "home"][k],
               "recipient": c["name"], "phone": c["mobile"], "province": f.cn.province(), "city": f.cn.city(),
               "street": f.cn.street_address(), "postcode": f.cn.postcode(), "is_default": k == 0}
        out["customer_addresses"].append(row)
        addresses.append(row["id"])
    serials = [_device(f, c, out) for _ in range(f.rng.choice([0, 1, 1, 1, 2, 3]))]
    for _ in range(f.rng.choice([0, 1, 1, 2, 3])):
        _order(f, c, addresses, serials, out)
    for _ in range(f.rng.choice([0, 0, 1, 2])):
        opened = f.between(t0, f.now)
        out["support_tickets"].append({
            "id": len(out["support_tickets"]) + 1, "customer_id": cid,
            "order_id": out["orders"][-1]["id"] if out["orders"] and out["orders"][-1]["customer_id"] == cid else None,
            "channel": f.rng.choice(["phone", "email", "web", "wechat"]), "subject": f.rng.choice(
                ["Gateway offline", "Licence activation fails", "Invoice request", "Tablet GPS drift"]),
            "description": f.cn.sentence() if f.chance(0.7) else f.en.sentence(),
            "status": f.rng.choice(["open", "closed", "closed"]), "opened_at": opened,
            "closed_at": opened + timedelta(days=f.rng.randrange(1, 9)) if f.chance(0.6) else None})
    if document and c["organisation_id"]:
        applied = f.between(t0, f.now)
        out["partners"].append({"id": len(out["partners"]) + 1, "customer_id": cid,
                                "organisation_id": c["organisation_id"], "id_document_type": document[0],
                                "id_document_no": document[1], "level": f.rng.choice(["silver", "gold"]),
                                "status": "certified", "contract_no": f"KPC-{applied:%Y}-{cid:05d}",
                                "applied_at": applied, "certified_at": applied + timedelta(days=14)})
    for event in f.rng.sample(range(1, len(EVENTS) + 1), f.rng.choice([0, 0, 1, 2])):
        out["event_registrations"].append({"id": len(out["event_registrations"]) + 1, "event_id": event,
                                           "customer_id": cid, "invited": f.chance(0.5),
                                           "registered_at": f.between(t0, f.now), "attended": f.chance(0.7)})
    for _ in range(f.rng.choice([0, 0, 1, 2])):
        out["material_requests"].append({"id": len(out["material_requests"]) + 1, "customer_id": cid,
                                         "material": f.rng.choice(["White paper: edge AI", "GW300 datasheet",
                                                                   "Factory case study"]),
                                         "requested_at": f.between(t0, f.now)})
    if f.chance(0.3):
        out["survey_responses"].append({"id": len(out["survey_responses"]) + 1, "customer_id": cid,
                                        "survey": "satisfaction_2025", "score": f.rng.randrange(1, 11),
                                        "comment": f.cn.sentence() if f.chance(0.5) else None,
                                        "submitted_at": f.between(t0, f.now)})
    _training(f, c, document is not None, out)
    for _ in range(f.rng.choice([1, 2, 3, 4])):
        _web_session(f, cid, out)
    for campaign in out["email_campaigns"]:
        if c["email"] and (campaign["kind"] == "notice" or c["marketing_opt_in"]) and f.chance(0.35):
            out["email_clicks"].append({"id": len(out["email_clicks"]) + 1, "campaign_id": campaign["id"],
                                        "customer_id": cid, "email": c["email"],
                                        "link_url": f"https://www.keptek.example{f.rng.choice(URLS)}?utm=mail",
                                        "ip_address": f.ipv4(), "clicked_at": campaign["sent_at"] +
                                        timedelta(minutes=f.rng.randrange(5, 4000))})


def _device(f: Fakes, c: dict, out: dict[str, list[dict]]) -> str:
    did = len(out["devices"]) + 1
    activated = f.between(c["created_at"], f.now)
    model = f.rng.choice(list(DEVICE_SKUS.values()))
    serial = f"KT{model}{activated:%y}{did:06d}"
    out["devices"].append({"id": did, "customer_id": c["id"], "serial_number": serial, "mac_address": f.mac(),
                           "device_uid": f"kdu-{f.hexstr(32)}", "model": model,
                           "nickname": f.rng.choice([None, "Workshop A", "仓库网关", "Line 3 tablet"]),
                           "firmware_version": f.rng.choice(["4.1.0", "4.1.2", "4.2.0"]), "activated_at": activated,
                           "last_seen_at": f.between(activated, f.now)})
    for pkg in f.rng.sample(PACKAGES, f.rng.randrange(3, 7)):
        out["device_software"].append({"id": len(out["device_software"]) + 1, "device_id": did, "package": pkg,
                                       "version": f"{f.rng.randrange(1, 9)}.{f.rng.randrange(20)}",
                                       "installed_at": f.between(activated, f.now)})
    _, lat, lng = f.rng.choice(CITIES)
    at = f.between(activated, f.now)
    for _ in range(f.rng.randrange(8, 25) if model in ("T8", "TRK2") else f.rng.randrange(1, 4)):
        lat, lng = lat + f.rng.uniform(-0.01, 0.01), lng + f.rng.uniform(-0.01, 0.01)
        at += timedelta(minutes=f.rng.randrange(1, 90))
        out["device_locations"].append({"id": len(out["device_locations"]) + 1, "device_id": did,
                                        "lat": round(lat, 6), "lng": round(lng, 6),
                                        "accuracy_m": f.rng.randrange(3, 60), "recorded_at": at})
    for _ in range(f.rng.randrange(0, 4)):
        out["device_files"].append({"id": len(out["device_files"]) + 1, "device_id": did,
                                    "file_name": f.en.file_name(category="office"), "file_key": f"files/{f.hexstr(24)}",
                                    "size_bytes": f.rng.randrange(1_000, 5_000_000),
                                    "direction": f.rng.choice(["upload", "download"]),
                                    "synced_at": f.between(activated, f.now)})
    for _ in range(f.rng.randrange(2, 8)):
        out["device_usage_logs"].append({"id": len(out["device_usage_logs"]) + 1, "device_id": did,
                                         "app": f.rng.choice(PACKAGES[:3]), "action": f.rng.choice(
                                             ["start", "stop", "export", "config_change"]),
                                         "occurred_at": f.between(activated, f.now)})
    return serial


def _order(f: Fakes, c: dict, addresses: list[int], serials: list[str], out: dict[str, list[dict]]) -> None:
    oid = len(out["orders"]) + 1
    ordered = f.between(c["created_at"], f.now)
    total = Decimal("0.00")
    for _ in range(f.rng.randrange(1, 4)):
        product = f.rng.randrange(1, len(PRODUCTS) + 1)
        sku, _, _, price = PRODUCTS[product - 1]
        serial = serials.pop() if sku in DEVICE_SKUS and serials else None
        quantity = 1 if serial else f.rng.randrange(1, 4)
        total += Decimal(price) * quantity
        out["order_lines"].append({"id": len(out["order_lines"]) + 1, "order_id": oid, "product_id": product,
                                   "quantity": quantity, "unit_price_cny": Decimal(price), "device_serial": serial})
    org = c["organisation_id"]
    out["orders"].append({"id": oid, "customer_id": c["id"], "shipping_address_id": f.rng.choice(addresses),
                          "order_no": f"KO{ordered:%Y%m%d}{oid:06d}", "status": f.rng.choice(
                              ["paid", "shipped", "delivered", "delivered", "cancelled"]),
                          "invoice_title": f"organisation #{org}" if org else None, "total_cny": total,
                          "ordered_at": ordered, "paid_at": ordered + timedelta(minutes=f.rng.randrange(1, 600))})


def _training(f: Fakes, c: dict, partner: bool, out: dict[str, list[dict]]) -> None:
    if not (partner or f.chance(0.2)):
        return
    for session in f.rng.sample(range(1, 3 * len(COURSES) + 1), f.rng.randrange(1, 3)):
        eid = len(out["enrolments"]) + 1
        enrolled = f.between(c["created_at"], f.now)
        score = f.rng.randrange(40, 101) if f.chance(0.8) else None
        done = score is not None
        out["enrolments"].append({"id": eid, "session_id": session, "customer_id": c["id"],
                                  "status": "completed" if done else "enrolled", "score": score,
                                  "enrolled_at": enrolled,
                                  "completed_at": enrolled + timedelta(days=5) if done else None})
        if score is not None and score >= 60:  # done
            issued = enrolled + timedelta(days=7)
            out["certificates"].append({"id": len(out["certificates"]) + 1, "enrolment_id": eid,
                                        "certificate_no": f"KC-{issued:%Y}-{eid:06d}", "holder_name": c["name"],
                                        "issued_at": issued, "expires_at": issued + timedelta(days=3 * 365),
                                        "revoked_at": None})


def _web_session(f: Fakes, cid: int | None, out: dict[str, list[dict]]) -> None:
    sid = len(out["web_sessions"]) + 1
    started = f.ago(400)
    out["web_sessions"].append({"id": sid, "cookie_id": f"kc_{f.hexstr(32)}", "customer_id": cid,
                                "ip_address": f.ipv4(), "user_agent": f.user_agent(),
                                "referrer": f.rng.choice([None, "https://www.baidu.com/", "https://www.bing.com/"]),
                                "started_at": started})
    at = started
    for _ in range(f.rng.randrange(1, 6)):
        at += timedelta(seconds=f.rng.randrange(5, 400))
        out["page_views"].append({"id": len(out["page_views"]) + 1, "session_id": sid, "url": f.rng.choice(URLS),
                                  "viewed_at": at, "duration_ms": f.rng.randrange(500, 120_000)})
