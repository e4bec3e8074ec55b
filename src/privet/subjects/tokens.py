"""Trusted subject tokens: a short-lived JWT signed by the company's own login, accepted instead of a code.

The key in settings fixes the algorithm (HS256 for a shared secret; RS256/ES256 for a public key), so a token
cannot pick a weaker one. Each token is accepted once: its `jti` is remembered (hashed) until it expires.
Refusals say what is wrong with the token, never what it claims.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import PrivetError, Unauthorized
from privet.settings import Settings
from privet.subjects.models import UsedToken
from privet.subjects.service import normalise_for
from privet.subjects.verification import VerifiedIdentity, resolve_subject

LEEWAY_SECONDS = 30  # clock skew tolerated between the company's login and Privet
MAX_TOKEN_BYTES = 8192
ACTOR = "public:token"
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
HINT = "ask the company's login for a fresh token (see the subject_token_* settings)"


def _refused(detail: str) -> Unauthorized:
    return Unauthorized(detail, HINT)


def _key_and_algorithms(
    settings: Settings,
) -> tuple[rsa.RSAPublicKey | ec.EllipticCurvePublicKey | str, list[str]]:
    """The verification key and the only algorithms it may be used with."""
    if settings.subject_token_public_key:
        try:
            key = load_pem_public_key(settings.subject_token_public_key.encode())
        except ValueError:
            raise PrivetError(
                "PRIVET_SUBJECT_TOKEN_PUBLIC_KEY is not a PEM public key",
                "paste the issuer's public key, -----BEGIN PUBLIC KEY----- included",
                [],
                500,
                "Configuration error",
            ) from None
        if isinstance(key, rsa.RSAPublicKey):
            return key, ["RS256"]
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHMS:
            return key, [_EC_ALGORITHMS[key.curve.name]]
        raise PrivetError(
            "PRIVET_SUBJECT_TOKEN_PUBLIC_KEY must be an RSA or a P-256/384/521 EC key",
            "use the issuer's RS256 or ES256 public key",
            [],
            500,
            "Configuration error",
        )
    if settings.subject_token_secret:
        return settings.subject_token_secret, ["HS256"]
    raise Unauthorized(
        "Trusted subject tokens are not accepted here",
        "set PRIVET_SUBJECT_TOKEN_SECRET or PRIVET_SUBJECT_TOKEN_PUBLIC_KEY, or verify by code",
    )


def _decode(settings: Settings, token: str) -> dict:
    key, algorithms = _key_and_algorithms(settings)
    if not token or len(token) > MAX_TOKEN_BYTES:
        raise _refused("This is not a subject token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _refused("This is not a subject token") from None
    if header.get("alg") not in algorithms:  # before any key use: no `none`, no HS256 with a public key
        raise _refused("This token is signed with an algorithm Privet does not accept for subject tokens")
    required = ["exp", "iat", "jti", "aud"] + (["iss"] if settings.subject_token_issuer else [])
    try:
        # Times are checked below against Privet's clock (which tests can freeze), not PyJWT's.
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.subject_token_audience,
            issuer=settings.subject_token_issuer or None,
            options={"require": required, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise _refused(f"This token has no {exc.claim!r} claim") from None
    except jwt.InvalidAudienceError:
        raise _refused("This token is meant for another audience") from None
    except jwt.InvalidIssuerError:
        raise _refused("This token comes from an issuer Privet does not trust") from None
    except jwt.InvalidSignatureError:
        raise _refused("This token's signature does not verify") from None
    except jwt.PyJWTError:
        raise _refused("This token could not be verified") from None


def _number(claims: dict, name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refused(f"This token's {name!r} claim is not a time in seconds")
    return float(value)


def _check_times(settings: Settings, claims: dict) -> datetime:
    """Expiry, issue time, not-before and lifetime; returns the expiry."""
    now = utcnow().timestamp()
    exp, iat = _number(claims, "exp"), _number(claims, "iat")
    if exp <= now - LEEWAY_SECONDS:
        raise _refused("This token has expired")
    if iat > now + LEEWAY_SECONDS:
        raise _refused("This token was issued in the future")
    if "nbf" in claims and _number(claims, "nbf") > now + LEEWAY_SECONDS:
        raise _refused("This token is not valid yet")
    if exp <= iat or exp - iat > settings.subject_token_max_age_seconds:
        raise _refused(f"This token lives longer than {settings.subject_token_max_age_seconds} seconds")
    return datetime.fromtimestamp(exp + LEEWAY_SECONDS, UTC)


def _identity(session: Session, claims: dict) -> tuple[str, str]:
    """(type, normalised value) named by `identity_type` + `identity`, else `sub` as the company's user id."""
    if "identity_type" in claims or "identity" in claims:
        kind, value = claims.get("identity_type"), claims.get("identity")
    else:
        kind, value = "user_id", claims.get("sub")
    if not isinstance(kind, str) or not isinstance(value, str) or not value:
        raise _refused("This token names no identity (send `sub`, or `identity_type` and `identity`)")
    try:
        return kind, normalise_for(session, kind, value)
    except PrivetError:
        raise _refused("This token names an identity that is not valid") from None


def _remember(session: Session, claims: dict, expires_at: datetime) -> None:
    """Record the `jti` as used (hashed); a second use, even a concurrent one, is refused."""
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise _refused("This token's 'jti' claim is not a non-empty string")
    jti_hash = hashlib.sha256(jti.encode()).hexdigest()
    session.execute(delete(UsedToken).where(UsedToken.expires_at < utcnow()))  # forget what can't replay
    if session.execute(select(UsedToken.jti_hash).where(UsedToken.jti_hash == jti_hash)).first():
        raise _refused("This token was already used")
    try:
        with session.begin_nested():
            session.add(UsedToken(jti_hash=jti_hash, expires_at=expires_at))
    except IntegrityError:
        raise _refused("This token was already used") from None


def _about(claims: dict) -> tuple[str | None, str | None]:
    """(region, organisation) the token states about the person (P41, P6): optional `region` and `organisation`
    claims; a claim that is there but unreadable refuses the token (the company's login sent something wrong)."""
    from privet.subjects.jurisdiction import check_organisation, normalise_region

    raw = claims.get("region")
    try:
        region = normalise_region(raw if isinstance(raw, str) or raw is None else "?")
    except PrivetError:
        raise _refused("This token's 'region' claim is not a region code (ISO 3166, e.g. DE or US-CA)") from None
    try:
        organisation = check_organisation(claims.get("organisation"))
    except PrivetError:
        raise _refused("This token's 'organisation' claim is not a short organisation name or reference") from None
    return region, organisation


def _apply(session: Session, subject_id: str, region: str | None, organisation: str | None) -> None:
    from privet.subjects.jurisdiction import record_organisation, record_region
    from privet.subjects.service import get_subject

    subject = get_subject(session, subject_id)
    if region:
        record_region(session, subject, region, source="token", actor=ACTOR)
    if organisation:
        record_organisation(session, subject, organisation, source="token", actor=ACTOR)


def verify_subject_token(
    session: Session, settings: Settings, token: str, *, keyring: Keyring | None = None, create_subject: bool = True
) -> VerifiedIdentity:
    """Accept a trusted subject token once; the subject it names is found or created (identity verified). Its
    optional `region` and `organisation` claims are recorded on the subject (`privet.subjects.jurisdiction`)."""
    claims = _decode(settings, token.strip() if isinstance(token, str) else "")
    expires_at = _check_times(settings, claims)
    identity_type, value = _identity(session, claims)
    region, organisation = _about(claims)
    _remember(session, claims, expires_at)
    keyring = keyring or Keyring.from_settings(settings)
    subject_id, created = resolve_subject(session, keyring, identity_type, value, create=create_subject, actor=ACTOR)
    record(
        session,
        actor=ACTOR,
        action="subject_token.accepted",
        object_type="subject",
        object_id=subject_id or "-",
        details={"identity_type": identity_type, "subject_created": created},
    )
    if subject_id is not None:
        _apply(session, subject_id, region, organisation)
    return VerifiedIdentity(identity_type, keyring.blind_index(identity_type, value), subject_id)
