"""Consent receipts: a signed JSON copy of one ledger record (Kantara Consent Receipt / ISO/IEC TS 27560 fields).

The subject keeps the receipt; Privet later verifies it: the Ed25519 signature over the canonical JSON (sorted keys,
no spaces) must hold AND the ledger must still hold that record with the same fields. The receipt names the
subject by id only, never by an identity value.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.consent.models import ConsentRecord
from privet.kit.crypto import Keyring

VERSION = "KI-CR-v1.1.0+privet.1"
KEY_PURPOSE = "receipts"
ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class ReceiptCheck:
    """The outcome of verifying a receipt."""

    valid: bool
    reason: str


def canonical(document: dict) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are signed."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z") if moment else None


def record_fields(record: ConsentRecord) -> dict:
    """The receipt fields that come from the ledger record (what verification compares)."""
    return {
        "version": VERSION,
        "consentReceiptID": record.id,
        "consentTimestamp": _iso(record.at),
        "jurisdiction": record.jurisdiction,
        "collectionMethod": record.method,
        "language": record.language,
        "piiPrincipalId": f"subject:{record.subject_id}" if record.subject_id else f"visitor:{record.visitor_id}",
        "guardianId": f"subject:{record.guardian_id}" if record.guardian_id else None,
        "policy": {"notice": record.notice_key, "version": record.notice_version},
        "purpose": record.purpose,
        "piiCategories": list(record.categories or []),
        "legalBasis": record.legal_basis,
        "separateConsent": record.separate_kind,
        "sensitive": record.separate_kind == "sensitive",
        "event": record.event,
        "expiresAt": _iso(record.expires_at),
    }


def controller_from(organisation: dict | None) -> dict:
    """The controller block from the data map's organisation (name and the responsible office's contact)."""
    organisation = organisation or {}
    contact = organisation.get("responsible") or {}
    return {
        "piiController": organisation.get("name"),
        "contact": contact.get("name"),
        "email": contact.get("email"),
        "phone": contact.get("phone"),
        "address": contact.get("address"),
    }


def receipt(keyring: Keyring, record: ConsentRecord, *, controller: dict) -> dict:
    """The signed receipt of one record; `signature` is base64url Ed25519 over the canonical JSON of the rest."""
    body = {**record_fields(record), "piiControllers": [controller], "signatureAlgorithm": ALGORITHM}
    signature = keyring.signing_key(KEY_PURPOSE).sign(canonical(body))
    return {**body, "signature": _b64(signature)}


def public_key(keyring: Keyring) -> dict:
    """The public half of the receipt key, raw (base64url) and PEM, for anyone to check signatures."""
    key = keyring.verify_key(KEY_PURPOSE)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"algorithm": ALGORITHM, "public_key": _b64(raw), "pem": pem.decode()}


def verify_receipt(session: Session, keyring: Keyring, receipt: dict) -> ReceiptCheck:
    """Valid when the signature holds and the ledger still holds the record with the same fields."""
    if not isinstance(receipt, dict) or not isinstance(receipt.get("signature"), str):
        return ReceiptCheck(False, "not a receipt: the signature is missing")
    body = {k: v for k, v in receipt.items() if k != "signature"}
    text = receipt["signature"]
    try:
        signature = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        keyring.verify_key(KEY_PURPOSE).verify(signature, canonical(body))
    except (InvalidSignature, ValueError, binascii.Error, TypeError):
        return ReceiptCheck(False, "the signature does not match: the receipt was changed or not issued here")
    record_id = receipt.get("consentReceiptID")
    found = session.execute(select(ConsentRecord).where(ConsentRecord.id == str(record_id))).scalar_one_or_none()
    if found is None:
        return ReceiptCheck(False, "the ledger holds no record with this receipt id")
    expected = record_fields(found)
    changed = sorted(k for k, v in expected.items() if body.get(k) != v)
    if changed:
        return ReceiptCheck(False, "the ledger record differs in: " + ", ".join(changed))
    return ReceiptCheck(True, "signature valid and the ledger holds this record unchanged")
