"""Every mail of the corpus (tests/data/email) parses to the right text, contact, thread,
attachments and loop flags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from channels.base import StatusUpdate
from channels.email.normalize import normalize_email
from dialogs.model import InboundMessage, MessageStatus

DATA = Path(__file__).resolve().parents[2] / "data" / "email"


@dataclass(frozen=True)
class Expect:
    text: str
    sender: str
    subject: str | None = None
    name: str | None = None
    attachments: tuple[tuple[str, str], ...] = ()
    automated: bool = False
    thread_key: str | None = None
    references: tuple[str, ...] = ()
    token: int | None = None
    note: str | None = None
    html_has: str | None = None
    html_lacks: tuple[str, ...] = ()


MESSAGES: dict[str, Expect] = {
    "plain_utf8.eml": Expect(
        "Hello,\n\nmy printer shows error E42 since Monday.\n\nAnna",
        "anna@customer.test",
        "Printer does not work",
        name="Anna Smith",
        thread_key="plain-1@customer.test",
    ),
    "ru_koi8r_base64.eml": Expect(
        "Здравствуйте!\n\nНе могу войти в личный кабинет, пишет: неверный пароль.",
        "ivan@customer.test",
        "Не могу войти",
        name="Иван Петров",
    ),
    "ru_windows1251_8bit.eml": Expect(
        "Пришлите, пожалуйста, счёт за август.\nОльга", "olga@customer.test", "Счёт за август"
    ),
    "pl_iso88592_qp.eml": Expect(
        "Dzień dobry,\n\nproszę o zwrot pieniędzy za zamówienie nr 1234. Paczka dotarła "
        "uszkodzona.\n\nPozdrawiam\nŁukasz Wójcik",
        "lukasz@klient.test",
        "Zwrot pieniędzy",
        name="Łukasz Wójcik",
    ),
    "mislabelled_cp1251_as_latin1.eml": Expect(
        "Добрый день! Мой заказ до сих пор не доставлен, хотя прошло уже две недели. "
        "Подскажите, пожалуйста, что случилось с посылкой.",
        "sergey@customer.test",
    ),
    "mislabelled_utf8_as_koi8.eml": Expect(
        "Где моя посылка? Трек-номер не работает.", "maria@customer.test"
    ),
    "no_charset_8bit.eml": Expect(
        "Можно оплатить картой? Zażółć gęślą jaźń.", "petr@customer.test"
    ),
    "rfc2231_filename.eml": Expect(
        "See the attached invoice.",
        "anna@customer.test",
        attachments=(("Счёт №7.pdf", "application/pdf"),),
    ),
    "rfc2047_filename.eml": Expect(
        "Photo attached.",
        "anna@customer.test",
        "Zdjęcie uszkodzenia",
        attachments=(("zdjęcie.jpg", "image/jpeg"),),
    ),
    "alternative.eml": Expect(
        "How do I change my e-mail address?",
        "bob@customer.test",
        html_has="<b>change</b>",
    ),
    "html_only.eml": Expect(
        "The link on your [help page](https://shop.test/help) is broken.\n\nThanks,  \nCarol",
        "carol@customer.test",
        html_has='<a href="https://shop.test/help"',
        html_lacks=("<script", "onclick", "onerror", "alert"),
    ),
    "inline_image.eml": Expect(
        "This is what I see:\n\nDan",
        "dan@customer.test",
        attachments=(("inline-1.png", "image/png"),),
        html_has='src="cid:shot1@customer.test"',
    ),
    "mixed_attachment.eml": Expect(
        "Please find the signed contract attached.",
        "eve@customer.test",
        attachments=(("contract.pdf", "application/pdf"),),
    ),
    "nested_mixed_related.eml": Expect(
        "I want a refund for order 77.",
        "frank@customer.test",
        attachments=(("logo.png", "image/png"), ("order.csv", "text/csv")),
    ),
    "tnef_winmail.eml": Expect(
        "Notes are attached.",
        "grace@corp.test",
        attachments=(("winmail.dat", "application/ms-tnef"),),
        note="TNEF",
    ),
    "auto_replied.eml": Expect(
        "I am out of the office until Monday.", "henry@customer.test", automated=True
    ),
    "auto_submitted_no.eml": Expect("It is still broken, please help.", "henry@customer.test"),
    "precedence_bulk.eml": Expect("Everything 20% off.", "news@shop.test", automated=True),
    "precedence_junk_ru.eml": Expect("Только сегодня!", "promo@shop.test", automated=True),
    "list_id.eml": Expect("Digest of the week.", "dev@lists.test", automated=True),
    "x_autoreply.eml": Expect("Я в отпуске до 10 сентября.", "ivan@customer.test", automated=True),
    "x_autorespond.eml": Expect("Jestem na urlopie.", "jan@klient.test", automated=True),
    "mailer_daemon_plain.eml": Expect(
        "Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.",
        "mailer-daemon@mx.old.test",
        automated=True,
    ),
    "reply_en_gmail.eml": Expect(
        "Thanks, restarting it helped!",
        "anna@customer.test",
        thread_key="plain-1@customer.test",
        references=("plain-1@customer.test", "rd.12.12@relaydesk.test"),
        token=12,
    ),
    "reply_ru_pisal.eml": Expect(
        "Спасибо, пароль сбросился, всё работает.",
        "ivan@customer.test",
        thread_key="koi8-1@customer.test",
        references=("koi8-1@customer.test", "rd.14.14@relaydesk.test"),
        token=14,
    ),
    "reply_ru_outlook.eml": Expect(
        "Получила, спасибо.",
        "olga@customer.test",
        thread_key="rd.15.15@relaydesk.test",
        references=("rd.15.15@relaydesk.test",),
    ),
    "reply_pl_napisal.eml": Expect(
        "Dziękuję, pieniądze dotarły.",
        "lukasz@klient.test",
        references=("rd.16.16@relaydesk.test",),
    ),
    "reply_pl_outlook.eml": Expect("Faktura jest poprawna.", "jan@klient.test"),
    "reply_outlook_original.eml": Expect("Got it, thanks.", "grace@corp.test"),
    "reply_outlook_from_sent.eml": Expect("One more question: is Friday fine?", "grace@corp.test"),
    "signature.eml": Expect("Please reset my password.", "kate@customer.test"),
    "interleaved_quotes.eml": Expect("bob@new.test please.\nDelete it.", "bob@customer.test"),
    "subject_token_only.eml": Expect(
        "One more thing: the error is back.",
        "anna@customer.test",
        thread_key="token-1@customer.test",
        token=12,
    ),
    "no_message_id.eml": Expect("This mail has no Message-ID.", "leo@customer.test"),
    "malformed_headers.eml": Expect("Still readable.", "broken@customer.test"),
}

REPORTS: dict[str, StatusUpdate | None] = {
    "dsn_failed.eml": StatusUpdate(
        "email",
        "rd.101.7@relaydesk.test",
        MessageStatus.FAILED,
        error="bounced: nobody@customer.test: 5.1.1 550 5.1.1 <nobody@customer.test>: "
        "Recipient address rejected: User unknown",
    ),
    "dsn_delayed.eml": None,
    "read_receipt.eml": StatusUpdate("email", "rd.103.3@relaydesk.test", MessageStatus.READ),
}


def test_the_corpus_is_complete() -> None:
    """Every file of the corpus is checked here, and there are 30 or more of them."""
    files = {p.name for p in DATA.glob("*.eml")}
    assert files == set(MESSAGES) | set(REPORTS)
    assert len(files) >= 30


@pytest.mark.parametrize("name", sorted(MESSAGES), ids=sorted(MESSAGES))
def test_message_parses_to_the_expected_inbound_message(name: str) -> None:
    """The customer's words, contact, thread, attachments and loop flag of each mail."""
    want = MESSAGES[name]
    raw = (DATA / name).read_bytes()
    got = normalize_email(raw)
    assert isinstance(got, InboundMessage)
    assert got.text == want.text
    assert got.contact.address == want.sender
    assert got.contact.email == want.sender
    if want.subject is not None:
        assert got.subject == want.subject
    if want.name is not None:
        assert got.contact.name == want.name
    assert tuple((a.filename, a.content_type) for a in got.attachments) == want.attachments
    assert all(a.data for a in got.attachments)
    assert got.is_automated is want.automated
    assert bool((got.raw or {}).get("automated")) is want.automated
    if want.thread_key is not None:
        assert got.thread_key == want.thread_key
    assert tuple(got.thread_hints["references"]) == want.references
    assert got.thread_hints.get("subject_token") == want.token
    notes = " ".join((got.raw or {}).get("notes", []))
    assert (want.note in notes) if want.note else not notes
    html = (got.raw or {}).get("html")
    if want.html_has is not None:
        assert want.html_has in html
    for bad in want.html_lacks:
        assert bad not in html
    full = (got.raw or {})["full_text"]
    assert want.text.split("\n")[0] in full and "\r" not in full


@pytest.mark.parametrize("name", sorted(REPORTS), ids=sorted(REPORTS))
def test_reports_become_status_updates_not_messages(name: str) -> None:
    """A DSN bounce marks our message failed, a read receipt marks it read, a delay is ignored."""
    assert normalize_email((DATA / name).read_bytes()) == REPORTS[name]


def test_mail_without_message_id_gets_a_stable_content_hash() -> None:
    """The same bytes give the same id (a re-scan deduplicates); other bytes another."""
    raw = (DATA / "no_message_id.eml").read_bytes()
    first, again = normalize_email(raw), normalize_email(raw)
    other = normalize_email(raw.replace(b"no Message-ID", b"no Message-ID either"))
    assert isinstance(first, InboundMessage) and isinstance(again, InboundMessage)
    assert isinstance(other, InboundMessage)
    assert first.external_id.startswith("sha256:")
    assert first.external_id == again.external_id != other.external_id
