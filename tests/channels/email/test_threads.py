"""Subjects: normalised for matching, tokened for our replies."""

from __future__ import annotations

import pytest

from channels.email.threads import find_subject_token, normalize_subject, subject_with_token


@pytest.mark.parametrize(
    ("subject", "want"),
    [
        ("Re: Printer", "printer"),
        ("RE: Fwd: re[2]: Printer  broken", "printer broken"),
        ("Отв: Не могу войти [#14]", "не могу войти"),
        ("ODP: Faktura", "faktura"),
        ("AW: WG: Rechnung", "rechnung"),
        ("Resume of the call", "resume of the call"),
    ],
)
def test_normalize_subject(subject: str, want: str) -> None:
    """Reply and forward prefixes (several, in several languages) and the token go."""
    assert normalize_subject(subject) == want


def test_subject_token_round_trip() -> None:
    """Our reply's subject carries the dialog id once, and it is read back."""
    subject = subject_with_token("Re: Printer [#12]", 12)
    assert subject == "Re: Printer [#12]"
    assert subject_with_token("Printer", 7) == "Re: Printer [#7]"
    assert subject_with_token("", 7) == "Re: Your request [#7]"
    assert find_subject_token("Re: Re: Printer [#7]") == 7
    assert find_subject_token("Order #7") is None
