"""Trusted subject tokens: HS256, RS256 and ES256 accepted; every forgery, expiry, replay or confusion refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import Unauthorized
from privet.settings import Settings
from privet.subjects import service
from privet.subjects.models import UsedToken
from privet.subjects.tokens import verify_subject_token
from tests.subjects.test_verification_support import cn_mobile

fake_en, fake_zh = Faker("en_US"), Faker("zh_CN")
SECRET = "shared-secret-of-the-company-login-0123456789"
T0 = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def hs(settings: Settings) -> Settings:
    return settings.model_copy(update={"subject_token_secret": SECRET, "subject_token_issuer": "https://login.keptek"})


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    return Keyring.from_settings(settings)


def claims(**changes: object) -> dict:
    now = int(T0.timestamp())
    body = {
        "iss": "https://login.keptek",
        "aud": "privet",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
        "identity_type": "email",
        "identity": fake_en.email(),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, body: dict, key: bytes | None) -> str:
    """A token built by hand, as an attacker would (PyJWT refuses to make these)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
    signature = _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    return f"{signing_input}.{signature}"


@pytest.mark.promise("P5")
def test_hs256_token_proves_an_identity(db: Session, hs: Settings, keyring: Keyring) -> None:
    body = claims(identity=fake_en.email().upper())
    with frozen_at(T0 + timedelta(seconds=5)):
        proven = verify_subject_token(db, hs, jwt.encode(body, SECRET, algorithm="HS256"), keyring=keyring)
    subject = service.find_subject(db, keyring, "email", body["identity"])
    assert proven.subject_id == subject.id and proven.identity_type == "email"
    assert proven.blind_index == keyring.blind_index("email", body["identity"].lower())
    stored = db.execute(select(UsedToken)).scalar_one()
    assert stored.jti_hash == hashlib.sha256(body["jti"].encode()).hexdigest()


def test_sub_names_the_company_user_id(db: Session, hs: Settings, keyring: Keyring) -> None:
    body = claims(identity_type=None, identity=None, sub="keptek-user-4711")
    with frozen_at(T0):
        proven = verify_subject_token(db, hs, jwt.encode(body, SECRET, algorithm="HS256"), keyring=keyring)
    assert proven.identity_type == "user_id"
    assert service.find_subject(db, keyring, "user_id", "keptek-user-4711").id == proven.subject_id


@pytest.mark.parametrize("kind", ["RS256", "ES256"])
def test_public_key_tokens(db: Session, settings: Settings, keyring: Keyring, rsa_key, ec_key, kind: str) -> None:
    private = rsa_key if kind == "RS256" else ec_key
    conf = settings.model_copy(update={"subject_token_public_key": _pem(private)})
    phone = cn_mobile(fake_zh)
    body = claims(iss=None, identity_type="phone", identity=phone)
    with frozen_at(T0):
        proven = verify_subject_token(db, conf, jwt.encode(body, private, algorithm=kind), keyring=keyring)
        assert service.find_subject(db, keyring, "phone", phone).id == proven.subject_id
        other = (
            ec.generate_private_key(ec.SECP256R1())
            if kind == "ES256"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        with pytest.raises(Unauthorized, match="signature"):
            verify_subject_token(db, conf, jwt.encode(claims(), other, algorithm=kind), keyring=keyring)


def test_algorithm_confusion_and_none_are_refused(db: Session, settings: Settings, keyring: Keyring, rsa_key) -> None:
    pem = _pem(rsa_key)
    conf = settings.model_copy(update={"subject_token_public_key": pem, "subject_token_secret": SECRET})
    with frozen_at(T0):
        # HS256 keyed with the public key itself: the classic confusion attack
        forged = hand_made({"alg": "HS256", "typ": "JWT"}, claims(), pem.encode())
        with pytest.raises(Unauthorized, match="algorithm"):
            verify_subject_token(db, conf, forged, keyring=keyring)
        # a correct HS256 token with the shared secret is refused too once a public key is configured
        with pytest.raises(Unauthorized, match="algorithm"):
            verify_subject_token(db, conf, jwt.encode(claims(), SECRET, algorithm="HS256"), keyring=keyring)
        for alg in ("none", "None", "NONE"):
            with pytest.raises(Unauthorized, match="algorithm"):
                verify_subject_token(db, conf, hand_made({"alg": alg}, claims(), None), keyring=keyring)
        hs_only = settings.model_copy(update={"subject_token_secret": SECRET})
        with pytest.raises(Unauthorized, match="algorithm"):
            verify_subject_token(db, hs_only, hand_made({"alg": "none"}, claims(iss=None), None), keyring=keyring)
        with pytest.raises(Unauthorized, match="algorithm"):  # an RS256 token when only HS256 is configured
            verify_subject_token(db, hs_only, jwt.encode(claims(), rsa_key, algorithm="RS256"), keyring=keyring)
    assert db.scalar(select(func.count()).select_from(UsedToken)) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": int(T0.timestamp()) - 60, "iat": int(T0.timestamp()) - 120}, "expired"),
        ({"exp": int(T0.timestamp()) + 601}, "lives longer than 600 seconds"),
        ({"iat": int(T0.timestamp()) + 120, "exp": int(T0.timestamp()) + 300}, "issued in the future"),
        ({"nbf": int(T0.timestamp()) + 120}, "not valid yet"),
        ({"aud": "someone-else"}, "another audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"iss": None}, "no 'iss' claim"),
        ({"jti": None}, "no 'jti' claim"),
        ({"exp": None}, "no 'exp' claim"),
        ({"iat": None}, "no 'iat' claim"),
        ({"aud": None}, "no 'aud' claim"),
        ({"jti": ""}, "'jti' claim"),
        ({"identity_type": "email", "identity": "not-an-address"}, "identity that is not valid"),
        ({"identity_type": None, "identity": None}, "names no identity"),
    ],
)
def test_bad_tokens_are_refused_without_echoing_claims(
    db: Session, hs: Settings, keyring: Keyring, changes: dict, message: str
) -> None:
    body = claims(**changes)
    with frozen_at(T0), pytest.raises(Unauthorized, match=message) as refused:
        verify_subject_token(db, hs, jwt.encode(body, SECRET, algorithm="HS256"), keyring=keyring)
    text = json.dumps(refused.value.as_problem())
    assert refused.value.status == 401
    assert all(
        str(value) not in text for key, value in body.items() if key in ("identity", "jti", "iss", "aud") and value
    )
    assert db.scalar(select(func.count()).select_from(UsedToken)) == 0


def test_wrong_secret_and_garbage(db: Session, hs: Settings, keyring: Keyring) -> None:
    with frozen_at(T0):
        with pytest.raises(Unauthorized, match="signature"):
            verify_subject_token(
                db, hs, jwt.encode(claims(), "another-secret-" * 3, algorithm="HS256"), keyring=keyring
            )
        for garbage in ("", "abc", "a.b.c", "x" * 9000):
            with pytest.raises(Unauthorized):
                verify_subject_token(db, hs, garbage, keyring=keyring)


def test_replay_is_refused_until_expiry_then_pruned(db: Session, hs: Settings, keyring: Keyring) -> None:
    body = claims()
    token = jwt.encode(body, SECRET, algorithm="HS256")
    with frozen_at(T0):
        verify_subject_token(db, hs, token, keyring=keyring)
        with pytest.raises(Unauthorized, match="already used"):
            verify_subject_token(db, hs, token, keyring=keyring)
    with frozen_at(T0 + timedelta(hours=1)):  # an expired jti row is pruned by the next accepted token
        later = {**claims(), "iat": int(T0.timestamp()) + 3600, "exp": int(T0.timestamp()) + 3900}
        verify_subject_token(db, hs, jwt.encode(later, SECRET, algorithm="HS256"), keyring=keyring)
    remaining = set(db.execute(select(UsedToken.jti_hash)).scalars())
    assert remaining == {hashlib.sha256(later["jti"].encode()).hexdigest()}


def test_not_configured(db: Session, settings: Settings, keyring: Keyring) -> None:
    with pytest.raises(Unauthorized, match="not accepted here") as refused:
        verify_subject_token(db, settings, jwt.encode(claims(), SECRET, algorithm="HS256"), keyring=keyring)
    assert "PRIVET_SUBJECT_TOKEN_SECRET" in refused.value.hint
