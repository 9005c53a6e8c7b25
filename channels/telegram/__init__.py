"""The Telegram channel (Bot API through aiogram 3): webhook or long polling in, replies out."""

from channels.telegram.adapter import TelegramChannel, TelegramConfig
from channels.telegram.store import TelegramStore

__all__ = ["TelegramChannel", "TelegramConfig", "TelegramStore"]
