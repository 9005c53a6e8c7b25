"""The chat widget: an embeddable script, a WebSocket per visitor, uploads; replies from storage."""

from channels.widget.adapter import WidgetChannel
from channels.widget.config import WidgetConfig
from channels.widget.identity import sign_user_id

__all__ = ["WidgetChannel", "WidgetConfig", "sign_user_id"]
