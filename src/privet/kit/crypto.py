"""Encryption at rest (AES-GCM) and blind indexes (HMAC-SHA256) for identities and other personal values.

Keys are derived from the master secret per purpose, so an identity key never doubles as a receipt key.
Build one `Keyring` per process (app lifespan, CLI command) and pass it to services that need it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privet.kit.errors import PrivetError
from privet.kit.keys import SecretSource, master_secret

_VERSION = b"\x01"  # ciphertext format: version byte, 12-byte nonce, AES-GCM ciphertext+tag


@dataclass(frozen=True)
class Keyring:
    """Purpose-bound keys derived from the master secret."""

    master: bytes

    @classmethod
    def from_settings(cls, settings: SecretSource) -> Keyring:
        """The keyring for this installation (reads or, on first use, fails without a secret key)."""
        return cls(master_secret(settings))

    def derive(self, purpose: str, length: int = 32) -> bytes:
        """A subkey for one purpose (HMAC-SHA256 of the purpose under the master secret), memoised."""
        cache = self.__dict__.setdefault("_derived", {})  # frozen dataclass: a private cache, not a field
        key = (purpose, length)
        if key not in cache:
            cache[key] = hmac.new(self.master, purpose.encode(), hashlib.sha256).digest()[:length]
        return cache[key]

    # --- encryption at rest -------------------------------------------------------------------------------
    def encrypt(self, plaintext: str | bytes, *, context: str) -> bytes:
        """AES-256-GCM; `context` (e.g. "identity:email") is bound as associated data so values can't be swapped."""
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(12)
        return _VERSION + nonce + AESGCM(self.derive("aes-gcm:v1")).encrypt(nonce, data, context.encode())

    def decrypt(self, blob: bytes, *, context: str) -> bytes:
        """Reverse `encrypt`; a wrong key, context or a changed byte raises `DecryptionFailed`."""
        if not blob or blob[:1] != _VERSION:
            raise DecryptionFailed()
        try:
            return AESGCM(self.derive("aes-gcm:v1")).decrypt(blob[1:13], blob[13:], context.encode())
        except InvalidTag:
            raise DecryptionFailed() from None

    def decrypt_text(self, blob: bytes, *, context: str) -> str:
        """`decrypt` for text values."""
        return self.decrypt(blob, context=context).decode()

    # --- lookups without plaintext ------------------------------------------------------------------------
    def blind_index(self, kind: str, normalised_value: str) -> str:
        """A keyed hash for equality lookups: same (kind, value) → same index; reveals nothing without the key."""
        msg = kind.encode() + b"\x00" + normalised_value.encode()
        return hmac.new(self.derive("blind-index:v1"), msg, hashlib.sha256).hexdigest()

    def fingerprint(self, value: str) -> str:
        """A keyed hash for evidence such as client addresses (kept as proof, not reversible)."""
        return hmac.new(self.derive("fingerprint:v1"), value.encode(), hashlib.sha256).hexdigest()[:32]

    # --- signatures ---------------------------------------------------------------------------------------
    def signing_key(self, purpose: str) -> Ed25519PrivateKey:
        """An Ed25519 key for signing (consent receipts); its public half can be published."""
        return Ed25519PrivateKey.from_private_bytes(self.derive(f"ed25519:{purpose}"))

    def verify_key(self, purpose: str) -> Ed25519PublicKey:
        """The public half of `signing_key(purpose)`."""
        return self.signing_key(purpose).public_key()

    def mac(self, purpose: str, message: bytes) -> str:
        """HMAC-SHA256 hex of `message` under a purpose key."""
        return hmac.new(self.derive(f"mac:{purpose}"), message, hashlib.sha256).hexdigest()


class DecryptionFailed(PrivetError):
    """Stored ciphertext could not be decrypted (wrong secret key or tampered data)."""

    def __init__(self) -> None:
        super().__init__(
            "Stored data could not be decrypted",
            "check PRIVET_SECRET_KEY is the one the data was written with",
            [],
            500,
            "Decryption failed",
        )
