"""A thin Graph API client for the Cloud API: send messages, upload and fetch media.

Every failure becomes a `ChannelError` that says whether a retry can help: rate limits,
5xx, timeouts and refused connections are retryable; the rest (the 24-hour window,
an undeliverable number, a bad token or template) are final and read clearly.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from channels.base import ChannelError
from channels.whatsapp.normalize import describe_error

# Meta's throttling and transient codes: worth another try later.
RETRYABLE_CODES = frozenset({4, 80007, 130429, 131000, 131016, 131056, 133004})
MAX_MEDIA_BYTES = 100 * 1024 * 1024


class GraphClient:
    def __init__(
        self,
        *,
        api_base: str,
        api_version: str,
        phone_number_id: str,
        access_token: str,
        timeout: float = 30.0,
    ) -> None:
        self._root = f"{api_base.rstrip('/')}/{api_version}"
        self._phone = phone_number_id
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("GraphClient used before start()")
        return self._session

    async def send_message(self, payload: dict[str, Any]) -> str | None:
        """POST /{phone-number-id}/messages; the new message's wamid."""
        body = await self._call("POST", f"{self._root}/{self._phone}/messages", json=payload)
        messages = body.get("messages") if isinstance(body, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            wamid = messages[0].get("id")
            return str(wamid) if wamid else None
        return None

    async def upload_media(self, data: bytes, content_type: str, filename: str) -> str:
        """POST /{phone-number-id}/media; the media id to send by."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", content_type)
        form.add_field("file", data, filename=filename, content_type=content_type)
        body = await self._call("POST", f"{self._root}/{self._phone}/media", data=form)
        media_id = body.get("id") if isinstance(body, dict) else None
        if not media_id:
            raise ChannelError("media upload answered without an id", retryable=True)
        return str(media_id)

    async def fetch_media(self, media_id: str) -> tuple[bytes, str]:
        """GET /{media-id} for the short-lived URL, then the bytes (bearer on both)."""
        info = await self._call("GET", f"{self._root}/{media_id}")
        url = info.get("url") if isinstance(info, dict) else None
        if not url:
            raise ChannelError(f"media {media_id} has no URL", retryable=False)
        try:
            async with self.session.get(str(url)) as response:
                if response.status >= 400:
                    raise ChannelError(
                        f"media download answered HTTP {response.status}",
                        retryable=response.status >= 500 or response.status == 429,
                    )
                data = await response.content.read(MAX_MEDIA_BYTES + 1)
                if len(data) > MAX_MEDIA_BYTES:
                    raise ChannelError("media larger than 100 MB", retryable=False)
                mime = response.headers.get("Content-Type", "application/octet-stream")
                return data, mime.split(";")[0].strip()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"media download failed: {_describe(exc)}", retryable=True) from None

    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            async with self.session.request(method, url, **kwargs) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                if response.status < 400:
                    return body
                raise graph_error(response.status, body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(
                f"WhatsApp API unreachable: {_describe(exc)}", retryable=True, code="network"
            ) from None


def graph_error(status: int, body: Any) -> ChannelError:
    """A Graph API error response as a ChannelError with a clear message."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ChannelError(
            f"WhatsApp API answered HTTP {status}",
            retryable=status >= 500 or status == 429,
            code=str(status),
        )
    code = error.get("code")
    retryable = status >= 500 or status == 429 or code in RETRYABLE_CODES
    return ChannelError(describe_error(error), retryable=retryable, code=str(code))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__
