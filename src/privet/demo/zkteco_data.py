"""Rows for ZKTeco's demo datastores, built from one seed (the generator inserts them in foreign-key order)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from privet.demo.fakes import Fakes

MODELS = [("SpeedFace-V5L", "1899.00"), ("ProFace X", "3299.00"), ("MB560-VL", "899.00"), ("inBio460", "2599.00"),
          ("SmartAC1", "699.00"), ("VT07-B22L", "1499.00")]
SELLERS = ["ZKTeco official store", "JD.com ZKTeco flagship", "Tmall ZKTeco store", "SecurityPro GmbH",
           "Access Systems B.V.", "ZK Europe online shop"]
EU_COUNTRIES = ["DE", "FR", "ES", "IT", "NL", "PL"]
TEMPLATES = [("important", "firmware_update"), ("important", "device_alarm"), ("important", "service_announcement"),
             ("marketing", "new_product"), ("marketing", "spring_promotion")]


def build(f: Fakes, customers: int) -> dict[str, list[dict]]:
    """All ZKTeco rows: table name → rows. Accounts are split about 70/30 between the CN and EU stores."""
    out: dict[str, list[dict]] = {t: [] for t in (
        "accounts", "payment_methods", "purchases", "devices", "eu_accounts", "eu_payment_methods", "eu_purchases",
        "eu_devices", "video_clips", "voice_recordings", "app_events", "notifications", "support_tickets",
        "ticket_messages", "ticket_attachments", "dealers", "dealer_contacts")}
    for i in range(1, customers + 1):
        eu = f.chance(0.3)
        _account(f, i, "eu_" if eu else "", out)
    for d in range(1, max(3, customers // 20) + 1):
        _dealer(f, d, out)
    return out


def _account(f: Fakes, i: int, p: str, out: dict[str, list[dict]]) -> None:
    fake = f.en if p else f.cn
    aid = len(out[f"{p}accounts"]) + 1
    roll = f.rng.random()
    # about 6% are minors: the adults-only sweep must find and delete them
    birth = f.birth_date(13, 17) if roll < 0.06 else f.birth_date(18, 75)
    registered = f.ago(1500, 20)
    uid = f"zk{f.hexstr(16)}"
    account = {"id": aid, "account_uid": uid, "email": f.email(fake, f"{f.en.user_name()}{i}"),
               "phone": f.phone("DE" if p else "US"),  # ranges reserved for fiction: reaches nobody
               "name": fake.name(), "birth_date": birth, "mailing_address": fake.address().replace("\n", ", "),
               "country": f.rng.choice(EU_COUNTRIES) if p else "CN", "language": f.rng.choice(
                   ["en", "de", "fr"]) if p else "zh_CN", "occupation": fake.job() if f.chance(0.5) else None,
               "password_hash": f.password_hash(), "marketing_opt_in": f.chance(0.35),
               "source": f.rng.choice(["registration", "registration", "activation", "support", "import"]),
               "registered_at": registered, "last_login_at": f.between(registered, f.now),
               "closed_at": f.ago(15) if f.chance(0.04) else None,
               # a minor's account on a family plan with the previous account (no draw: the seed's data stays)
               "family_of": aid - 1 if roll < 0.06 and aid > 1 and aid % 2 == 0 else None}
    out[f"{p}accounts"].append(account)
    cards = []
    for _ in range(f.rng.choice([0, 1, 1, 2])):
        card = {"id": len(out[f"{p}payment_methods"]) + 1, "account_id": aid,
                "card_brand": f.rng.choice(["VISA", "Mastercard", "UnionPay", "Amex"]),
                "card_last4": f"{f.rng.randrange(10000):04d}", "card_token": f"tok_{f.hexstr(24)}",
                "expiry": f"{f.rng.randrange(1, 13):02d}/{f.rng.randrange(26, 31)}", "billing_name": account["name"],
                "billing_address": account["mailing_address"], "created_at": f.between(registered, f.now)}
        out[f"{p}payment_methods"].append(card)
        cards.append(card["id"])
    serials = []
    for _ in range(f.rng.choice([0, 1, 1, 2, 3])):
        model, price = f.rng.choice(MODELS)
        bought = f.between(registered - timedelta(days=60), f.now).date()
        pid = len(out[f"{p}purchases"]) + 1
        out[f"{p}purchases"].append({
            "id": pid, "account_id": aid, "payment_method_id": f.rng.choice(cards) if cards and f.chance(0.7) else None,
            "purchase_date": bought, "seller": f.rng.choice(SELLERS[3:] if p else SELLERS[:3]),
            "invoice_no": f"{'EU' if p else 'CN'}{bought:%Y%m%d}{pid:06d}", "amount": Decimal(price),
            "currency": "EUR" if p else "CNY"})
        did = len(out[f"{p}devices"]) + 1
        serial = f.unique("serial", lambda: f"{'E' if p else 'C'}{f.rng.randrange(10**11):011d}")
        bound = f.between(registered, f.now)
        out[f"{p}devices"].append({"id": did, "account_id": aid, "purchase_id": pid, "model": model,
                                   "serial_code": serial, "mac_address": f.mac(), "firmware_version": f.rng.choice(
                                       ["ZAM180-1.0.2", "ZMM220-2.1.0", "ZLM60-3.0.1"]), "bound_at": bound,
                                   "activated_at": bound + timedelta(minutes=f.rng.randrange(1, 120))})
        serials.append((serial, model, bound))
    _cloud(f, uid, account, serials, out)
    if serials and f.chance(0.35):
        _ticket(f, account, f.rng.choice(serials), out)


def _cloud(f: Fakes, uid: str, account: dict, serials: list, out: dict[str, list[dict]]) -> None:
    for serial, _model, bound in serials:
        for _ in range(f.rng.randrange(0, 6)):
            recorded = f.between(bound, f.now)
            video = f.rng.random() < 0.7
            table = "video_clips" if video else "voice_recordings"
            row = {"id": len(out[table]) + 1, "account_uid": uid, "device_serial": serial,
                   "file_key": f"media/{uid}/{f.hexstr(20)}.{'mp4' if video else 'ogg'}",
                   "duration_s": f.rng.randrange(3, 120), "size_bytes": f.rng.randrange(50_000, 40_000_000),
                   "recorded_at": recorded, "uploaded_at": recorded + timedelta(seconds=f.rng.randrange(2, 600))}
            if video:
                row["resolution"] = f.rng.choice(["720p", "1080p", "2K"])
            out[table].append(row)
    phone_id = f"mdid-{f.hexstr(32)}"
    for _ in range(f.rng.randrange(1, 6)):
        out["app_events"].append({"id": len(out["app_events"]) + 1, "account_uid": uid, "mobile_device_id": phone_id,
                                  "platform": f.rng.choice(["android", "ios"]), "app_version": f.rng.choice(
                                      ["5.2.1", "5.3.0"]), "language": account["language"],
                                  "carrier": f.rng.choice(["China Mobile", "Vodafone", "Orange", None]),
                                  "event": f.rng.choice(["app_open", "live_view", "unlock", "settings"]),
                                  "occurred_at": f.between(account["registered_at"], f.now)})
    for kind, template in TEMPLATES:
        if (kind == "important" or account["marketing_opt_in"]) and f.chance(0.5):
            sent = f.between(account["registered_at"], f.now)
            out["notifications"].append({
                "id": len(out["notifications"]) + 1, "account_uid": uid,
                "channel": f.rng.choice(["email", "sms", "push"]), "kind": kind, "template": template,
                "sent_at": sent,
                "opened_at": sent + timedelta(hours=f.rng.randrange(1, 48)) if f.chance(0.4) else None})


def _ticket(f: Fakes, account: dict, device: tuple, out: dict[str, list[dict]]) -> None:
    serial, model, bound = device
    tid = len(out["support_tickets"]) + 1
    opened = f.between(bound, f.now)
    out["support_tickets"].append({
        "id": tid, "account_uid": account["account_uid"], "contact_name": account["name"],
        "contact_email": account["email"], "device_serial": serial, "product_model": model,
        "category": f.rng.choice(["error", "howto", "rma"]),
        "error_details": f"E{f.rng.randrange(100, 999)}: {f.en.sentence()}", "status": f.rng.choice(["open", "closed"]),
        "opened_at": opened, "closed_at": opened + timedelta(days=f.rng.randrange(1, 10)) if f.chance(0.5) else None})
    at = opened
    for k in range(f.rng.randrange(1, 4)):
        at += timedelta(hours=f.rng.randrange(1, 30))
        mid = len(out["ticket_messages"]) + 1
        out["ticket_messages"].append({"id": mid, "ticket_id": tid,
                                       "author_role": "customer" if k % 2 == 0 else "agent", "body": f.en.paragraph(nb_sentences=2), "sent_at": at})
        if k == 0 and f.chance(0.6):
            out["ticket_attachments"].append({
                "id": len(out["ticket_attachments"]) + 1, "message_id": mid, "kind": "screenshot",
                "file_key": f"support/{f.hexstr(24)}.png", "content_type": "image/png",
                "size_bytes": f.rng.randrange(40_000, 3_000_000), "uploaded_at": at})


def _dealer(f: Fakes, d: int, out: dict[str, list[dict]]) -> None:
    chinese = f.chance(0.6)
    fake = f.cn if chinese else f.en
    out["dealers"].append({"id": d, "company_name": fake.company(), "tax_id": f"T{f.rng.randrange(10**12):012d}",
                           "country": "CN" if chinese else f.rng.choice(EU_COUNTRIES),
                           "source": f.rng.choice(["commercial_operation", "third_party"]),
                           "signed_at": f.ago(1500, 30)})
    for _ in range(f.rng.randrange(1, 3)):
        out["dealer_contacts"].append({"id": len(out["dealer_contacts"]) + 1, "dealer_id": d, "name": fake.name(),
                                       "email": f.email(fake, f"{f.en.user_name()}{d}"),
                                       "phone": f.phone("US" if chinese else "DE"), "position": fake.job()})
