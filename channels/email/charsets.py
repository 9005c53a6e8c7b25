"""Text from the bytes of a MIME part whose declared charset may be missing or wrong.

Mail in the wild mislabels: windows-1251 sent as iso-8859-1, koi8-r sent as utf-8, no
charset at all. Valid UTF-8 is trusted first (high bytes are almost never valid UTF-8 by
chance); then the declared charset when it decodes cleanly and is not one of the labels
mailers put on anything; then charset-normalizer's guess; last, the declared charset
with replacement characters, so decoding never fails.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

# Labels that old mailers put on text in any 8-bit charset: never trusted on their own.
_CATCH_ALL = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252"}
_ALIASES = {"unknown-8bit": "", "x-unknown": "", "default": "", "ks_c_5601-1987": "cp949"}


def _codec(label: str | None) -> str:
    name = (label or "").strip().strip('"').lower()
    name = _ALIASES.get(name, name)
    if not name:
        return ""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def decode_text(data: bytes, declared: str | None) -> str:
    """The part's text, whatever its label says."""
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = _codec(declared)
    if codec and codec != "utf-8" and codec not in {_codec(c) for c in _CATCH_ALL}:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    best = from_bytes(data[:65536]).best()
    if best is not None:
        return data.decode(best.encoding, errors="replace")
    return data.decode(codec or "latin-1", errors="replace")
