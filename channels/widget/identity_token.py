"""A host site's logged-in user, vouched for by a JWT the site signed: checked with PyJWT.

The site signs `{"sub": user id, "exp": …, "name"?, "email"?}` either with the shared secret
(HS256, RELAYDESK_WIDGET_IDENTITY_SECRET) or with a private key it keeps to itself (RS256 or
ES256; we hold the public key, RELAYDESK_WIDGET_JWT_PUBLIC_KEY). Exactly one algorithm is
accepted, the one the configured key is for: a token with `alg: none`, or an HS256 token
signed with the public key's text when a public key is configured (algorithm confusion),
is refused before its signature is looked at. `exp` is required; `nbf` and `iat` are
checked when present, all with LEEWAY for clock skew; `aud` and `iss` must match when
configured (and, per RFC 7519, a token naming an audience is refused unless ours is one).

No I/O; the one impurity is the clock, which PyJWT reads itself for the time claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import EmailStr, TypeAdapter, ValidationError

LEEWAY = timedelta(seconds=30)
MAX_TOKEN = 8192  # characters; a signed identity is a few hundred
MAX_SUBJECT = 200
MAX_NAME = 200
MIN_HS256_SECRET = 32  # bytes: RFC 7518 §3.2 wants a key at least as long as the hash
MIN_RSA_BITS = 2048

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class TokenRefused(ValueError):
    """The token does not hold; `code` goes back to the widget with `message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """How the host site's tokens are checked: one algorithm and its key."""

    algorithm: str  # HS256, RS256 or ES256
    key: str | PublicKey
    audience: str | None = None
    issuer: str | None = None


@dataclass(frozen=True, slots=True)
class TokenUser:
    """Who a valid token names: `sub`, and the profile the site vouches for."""

    user_id: str
    name: str = ""
    email: str | None = None


def load_public_key(pem: str) -> tuple[PublicKey, str]:
    """The key in `pem` and the algorithm it verifies; ValueError says what is wrong."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise ValueError(
            "not a PEM public key (-----BEGIN PUBLIC KEY----- …); give the key or a path to it"
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"the RSA key has {key.key_size} bits; RS256 needs {MIN_RSA_BITS}")
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"ES256 needs a P-256 key, not {key.curve.name}")
        return key, "ES256"
    raise ValueError("the key must be RSA (RS256) or EC P-256 (ES256)")


def build_token_keys(
    *,
    secret: str | None,
    public_key: str | None,
    audience: str | None = None,
    issuer: str | None = None,
) -> TokenKeys | None:
    """The public key when there is one (then HS256 is refused), else the shared secret."""
    if public_key:
        key, algorithm = load_public_key(public_key)
        return TokenKeys(algorithm, key, audience, issuer)
    if secret:
        return TokenKeys("HS256", secret, audience, issuer)
    return None


def verify_user_token(token: str, keys: TokenKeys | None) -> TokenUser:
    """The user a token names; TokenRefused when it is not valid here and now."""
    if keys is None:
        raise TokenRefused("identity_not_enabled", "signed identity is not enabled on this server")
    if not token or len(token) > MAX_TOKEN:
        raise TokenRefused("bad_token", f"the token must be 1-{MAX_TOKEN} characters")
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as exc:
        raise TokenRefused("bad_token", f"the token is malformed: {exc}") from None
    if alg != keys.algorithm:  # the header only picks the message: decode() enforces it too
        raise TokenRefused(
            "token_algorithm_refused",
            f"tokens signed with {alg!r} are not accepted here; sign with {keys.algorithm}",
        )
    if keys.algorithm == "HS256" and len(str(keys.key).encode()) < MIN_HS256_SECRET:
        raise TokenRefused(
            "identity_not_enabled",
            f"HS256 tokens need a shared secret of at least {MIN_HS256_SECRET} bytes",
        )
    claims = _decode(token, keys)
    return _user_of(claims)


def _decode(token: str, keys: TokenKeys) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            keys.key,
            algorithms=[keys.algorithm],
            audience=keys.audience,
            issuer=keys.issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "sub"], "enforce_minimum_key_length": True},
        )
    except jwt.InvalidSignatureError:
        raise TokenRefused("bad_token_signature", "the token's signature does not verify") from None
    except jwt.ExpiredSignatureError:
        raise TokenRefused("token_expired", "the token has expired (exp)") from None
    except jwt.ImmatureSignatureError as exc:
        raise TokenRefused("token_not_yet_valid", str(exc)) from None
    except jwt.InvalidAudienceError:
        raise TokenRefused("token_wrong_audience", "the token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("token_wrong_issuer", "the token is from another issuer") from None
    except jwt.MissingRequiredClaimError as exc:
        if exc.claim == "aud":
            raise TokenRefused("token_wrong_audience", "the token has no aud claim") from None
        if exc.claim == "iss":
            raise TokenRefused("token_wrong_issuer", "the token has no iss claim") from None
        raise TokenRefused("bad_token", f"the token has no {exc.claim} claim") from None
    except jwt.InvalidAlgorithmError as exc:
        raise TokenRefused("token_algorithm_refused", str(exc)) from None
    except jwt.PyJWTError as exc:
        raise TokenRefused("bad_token", f"the token is malformed: {exc}") from None
    return claims


def _user_of(claims: dict[str, Any]) -> TokenUser:
    sub = claims["sub"]  # PyJWT has checked it is a string
    if not sub or len(sub) > MAX_SUBJECT:
        raise TokenRefused("bad_token", f"sub must be 1-{MAX_SUBJECT} characters")
    name = claims.get("name") or ""
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise TokenRefused("bad_token", f"name must be a string of at most {MAX_NAME} characters")
    email = claims.get("email") or None
    if email is not None:
        try:
            email = _EMAIL.validate_python(email)
        except ValidationError:
            raise TokenRefused("bad_token", "email is not an email address") from None
    return TokenUser(sub, name.strip(), email)
