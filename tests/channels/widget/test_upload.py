"""POST /widget/upload and GET /widget/files/{id}: limits, clear errors, files only to their owner."""

from __future__ import annotations

import io

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.channels.widget.conftest import Connect, origin_of
from tests.conftest import AUTH

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form(
    visitor: str, data: bytes, *, filename: str, content_type: str, client_id: str
) -> aiohttp.FormData:
    f = aiohttp.FormData()
    f.add_field("visitor", visitor)
    f.add_field("client_id", client_id)
    f.add_field("text", "screenshot")
    f.add_field("file", io.BytesIO(data), filename=filename, content_type=content_type)
    return f


async def upload(
    client: TestClient, body: aiohttp.FormData, origin: str | None = None
) -> aiohttp.ClientResponse:
    return await client.post(
        "/widget/upload", data=body, headers={"Origin": origin or origin_of(client)}
    )


async def test_upload_is_stored_as_a_message_and_downloadable_by_its_visitor(
    wclient: TestClient, connect: Connect
) -> None:
    """A picture becomes a message with an attachment in the visitor's dialog, sent again it is
    stored once, its visitor can download it and another visitor cannot."""
    v = await connect()
    visitor = v.welcome["visitor"]
    body = form(
        visitor, PNG, filename="screen.png", content_type="image/png", client_id="f_upload-001"
    )
    r = await upload(wclient, body)
    assert r.status == 200, await r.text()
    assert r.headers["Access-Control-Allow-Origin"] == origin_of(wclient)
    message = (await r.json())["message"]
    [file] = message["attachments"]
    assert (file["filename"], file["content_type"], file["size"]) == (
        "screen.png",
        "image/png",
        len(PNG),
    )
    again = await upload(
        wclient,
        form(
            visitor, PNG, filename="screen.png", content_type="image/png", client_id="f_upload-001"
        ),
    )
    assert (await again.json())["duplicate"] is True
    detail = await (
        await wclient.get(f"/api/v1/dialogs/{message['dialog_id']}", headers=AUTH)
    ).json()
    assert [m["attachments"][0]["filename"] for m in detail["messages"]] == ["screen.png"]

    got = await wclient.get(f"/widget/files/{file['id']}", params={"visitor": visitor})
    assert got.status == 200 and await got.read() == PNG
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    other = await connect()
    refused = await wclient.get(
        f"/widget/files/{file['id']}", params={"visitor": other.welcome["visitor"]}
    )
    assert refused.status == 404
    assert (await refused.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "status", "code"),
    [
        (b"<script>alert(1)</script>", "x.html", "text/html", 415, "unsupported_media_type"),
        (b"MZ\x90\x00", "setup.exe", "application/octet-stream", 415, "unsupported_media_type"),
        (b"<svg onload=alert(1)>", "fake.png", "image/png", 415, "unsupported_media_type"),
        (
            b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024),
            "big.png",
            "image/png",
            413,
            "payload_too_large",
        ),
        (b"", "empty.txt", "text/plain", 422, "invalid"),
    ],
    ids=["html", "exe", "png-that-is-not", "oversize", "empty"],
)
async def test_refused_uploads_say_why_and_store_nothing(
    wclient: TestClient,
    connect: Connect,
    data: bytes,
    filename: str,
    content_type: str,
    status: int,
    code: str,
) -> None:
    """Forbidden types, bytes that are not what they claim, oversize and empty files get a JSON
    4xx naming the problem, and no message is stored."""
    v = await connect()
    body = form(
        v.welcome["visitor"],
        data,
        filename=filename,
        content_type=content_type,
        client_id="f_refused-01",
    )
    r = await upload(wclient, body)
    assert r.status == status
    error = (await r.json())["error"]
    assert error["code"] == code and error["message"]
    dialogs = await (await wclient.get("/api/v1/dialogs", headers=AUTH)).json()
    assert dialogs["items"] == []


async def test_upload_needs_an_allowed_origin_and_a_visitor(
    wclient: TestClient, connect: Connect
) -> None:
    """Another site's page cannot upload; a form without a visitor or client id is refused."""
    v = await connect()
    visitor = v.welcome["visitor"]
    r = await upload(
        wclient,
        form(visitor, PNG, filename="a.png", content_type="image/png", client_id="f_origin-001"),
        origin="https://evil.example",
    )
    assert r.status == 403 and (await r.json())["error"]["code"] == "origin_not_allowed"
    r = await upload(
        wclient, form("", PNG, filename="a.png", content_type="image/png", client_id="f_novisitor1")
    )
    assert r.status == 422 and "visitor" in (await r.json())["error"]["message"]
    r = await upload(
        wclient, form(visitor, PNG, filename="a.png", content_type="image/png", client_id="bad")
    )
    assert r.status == 422 and "client_id" in (await r.json())["error"]["message"]
    r = await wclient.post(
        "/widget/upload", json={"file": "x"}, headers={"Origin": origin_of(wclient)}
    )
    assert r.status == 415


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary"),
        ("multipart/form-data; boundary=zz", b"garbage"),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\ncut short",
        ),
    ],
    ids=["no-boundary", "garbage", "truncated"],
)
async def test_malformed_multipart_is_a_400(
    wclient: TestClient, content_type: str, body: bytes
) -> None:
    """A body that is not valid multipart gets a JSON 400, not a server error."""
    r = await wclient.post(
        "/widget/upload",
        data=body,
        headers={"Origin": origin_of(wclient), "Content-Type": content_type},
    )
    assert r.status == 400
    assert (await r.json())["error"]["code"] == "bad_request"
