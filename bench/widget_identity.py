"""What checking a widget visitor's signed identity costs per connection, by kind of signature.

    python bench/widget_identity.py [--calls 5000] [--runs 5]

Times `resolve_visitor` (what the widget's hello, uploads and file links call) for an
anonymous visitor id, an HMAC-signed user id (the baseline: the older way of signing), and
JWTs signed HS256, RS256 (2048-bit) and ES256, each with name and email claims. Pure CPU in
this process; the medians of `--runs` runs of `--calls` calls each are printed with the
ratio to the HMAC baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# imported after the path set-up above, so the script runs from any directory
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from channels.widget.identity import new_visitor_id, resolve_visitor, sign_user_id
from channels.widget.identity_token import TokenKeys, build_token_keys

SECRET = "bench-shared-secret-of-at-least-32-bytes"


def _public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def cases() -> dict[str, Callable[[], object]]:
    now = int(time.time())
    payload = {
        "sub": "user-1001",
        "name": "Olga",
        "email": "olga@example.com",
        "iat": now,
        "exp": now + 3600,
    }
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    hs_keys = build_token_keys(secret=SECRET, public_key=None)
    rs_keys = build_token_keys(secret=None, public_key=_public_pem(rsa_key))
    es_keys = build_token_keys(secret=None, public_key=_public_pem(ec_key))
    tokens: list[tuple[str, str, TokenKeys | None]] = [
        ("jwt HS256", jwt.encode(payload, SECRET, algorithm="HS256"), hs_keys),
        ("jwt RS256", jwt.encode(payload, rsa_key, algorithm="RS256"), rs_keys),
        ("jwt ES256", jwt.encode(payload, ec_key, algorithm="ES256"), es_keys),
    ]
    visitor = new_visitor_id()
    user_hash = sign_user_id(SECRET, "user-1001")
    found: dict[str, Callable[[], object]] = {
        "anonymous visitor id": lambda: resolve_visitor(
            visitor_id=visitor, user_id=None, user_hash=None, identity_secret=SECRET
        ),
        "baseline: hmac user id": lambda: resolve_visitor(
            visitor_id=None, user_id="user-1001", user_hash=user_hash, identity_secret=SECRET
        ),
    }
    for name, token, keys in tokens:
        found[name] = lambda token=token, keys=keys: resolve_visitor(
            visitor_id=None,
            user_id=None,
            user_hash=None,
            identity_secret=SECRET,
            token=token,
            token_keys=keys,
        )
    return found


def per_call_us(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    table = cases()
    results: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every kind alike
        for name, call in table.items():
            results[name].append(per_call_us(call, args.calls))
    baseline = statistics.median(results["baseline: hmac user id"])
    print(f"{'identity':<26} {'us/call':>9} {'calls/s':>10} {'vs hmac':>8}")
    for name, runs in results.items():
        us = statistics.median(runs)
        print(f"{name:<26} {us:>9.1f} {1e6 / us:>10.0f} {us / baseline:>7.1f}x")


if __name__ == "__main__":
    main()
