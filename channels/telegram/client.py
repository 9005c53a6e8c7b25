"""A thin aiogram `Bot` for the configured Bot API server, and file downloads."""

from __future__ import annotations

from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, SimpleFilesPathWrapper, TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramNotFound
from aiohttp import ClientResponseError

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024  # what the public Bot API lets a bot download


class FileUnavailable(Exception):
    """The file cannot be fetched, now or later (too big, gone): store the message without it."""


class FileFetchFailed(Exception):
    """The download failed for now (5xx): worth a retry. Carries no URL (it holds the token)."""


LOCAL_MAX_FILE_BYTES = 2000 * 1024 * 1024  # a Bot API server in --local mode serves up to 2 GB


def build_bot(
    token: str,
    *,
    api_base: str | None = None,
    local_files: tuple[str, str] | None = None,
    timeout: float = 30.0,
) -> Bot:
    """A Bot talking to `api_base` (TELEGRAM_API_BASE: a local Bot API server) or to Telegram.

    `local_files` (server directory, directory here) says the server runs with --local: it
    answers getFile with a path on its own disk, read here under the mapped directory.
    """
    if not api_base:
        return Bot(token, session=AiohttpSession(api=PRODUCTION, timeout=timeout))
    if local_files is None:
        api = TelegramAPIServer.from_base(api_base)
    else:
        wrapper = SimpleFilesPathWrapper(Path(local_files[0]), Path(local_files[1]))
        api = TelegramAPIServer.from_base(api_base, is_local=True, wrap_local_file=wrapper)
    return Bot(token, session=AiohttpSession(api=api, timeout=timeout))


async def fetch_file(
    bot: Bot, file_id: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES, download_timeout: int = 60
) -> bytes:
    """getFile, then download its path. Network and 5xx errors propagate (worth a retry)."""
    try:
        info = await bot.get_file(file_id)
    except (TelegramBadRequest, TelegramNotFound) as exc:
        raise FileUnavailable(exc.message) from exc
    if not info.file_path:
        raise FileUnavailable("Telegram gave no file path")
    if info.file_size is not None and info.file_size > max_bytes:
        raise FileUnavailable(f"file is too big ({info.file_size} bytes)")
    try:
        buffer = await bot.download_file(info.file_path, timeout=download_timeout)
    except FileNotFoundError:  # --local mode: the server's file is not where the map says
        raise FileUnavailable("the Bot API server's file is not readable here") from None
    except ClientResponseError as exc:
        if 400 <= exc.status < 500:
            raise FileUnavailable(f"download answered {exc.status}") from None
        raise FileFetchFailed(f"download answered {exc.status}") from None
    assert buffer is not None  # no destination given: aiogram returns a BytesIO
    data = buffer.read()
    if len(data) > max_bytes:
        raise FileUnavailable(f"file is too big ({len(data)} bytes)")
    return data
