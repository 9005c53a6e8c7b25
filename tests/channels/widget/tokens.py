"""What a host site's server does to sign its logged-in users for the widget: JWTs and keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

JWT_SECRET = "host-site-shared-secret-for-jwt-0123456789"  # HS256 wants 32 bytes at least


@cache
def rsa_keys(bits: int = 2048) -> tuple[str, str]:
    """(private PEM, public PEM) of an RSA key, made once per test process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _pems(key)


@cache
def ec_keys(curve: str = "P-256") -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1() if curve == "P-256" else ec.SECP384R1())
    return _pems(key)


def _pems(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def claims(sub: str = "42", *, ttl: int = 300, **extra: Any) -> dict[str, Any]:
    """A user's claims, valid from now for `ttl` seconds (negative: expired that long ago)."""
    now = int(time.time())
    return {"sub": sub, "iat": now, "exp": now + ttl, **extra}


def sign(payload: dict[str, Any], key: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def hs256_by_hand(payload: dict[str, Any], secret: bytes) -> str:
    """An HS256 token keyed with any bytes: what an attacker signs with a server's public key
    text (PyJWT itself refuses to use a PEM key as an HMAC secret)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"
