"""Content-addressed attachment bodies on disk: <root>/ab/cdef…, written once, never edited."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:]


def save_blob(root: Path, data: bytes) -> str:
    """Store `data` durably (temp file, fsync, rename) and return its sha256."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(root, digest)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return digest


def load_blob(root: Path, sha256: str) -> bytes:
    return blob_path(root, sha256).read_bytes()
