"""Request bodies of the replies and notes endpoints."""

from __future__ import annotations

from pydantic import Field, model_validator

from inbox.schemas import AttachmentIn, Strict


class TemplateIn(Strict):
    """An approved WhatsApp message template: what may be sent outside the 24-hour window."""

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15, description="e.g. en_US")
    parameters: list[str] = Field(
        default_factory=list, max_length=20, description="the body's {{1}}, {{2}}, … in order"
    )


class ReplyIn(Strict):
    text: str = Field("", max_length=65536)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    template: TemplateIn | None = None
    reply_to: int | None = Field(None, description="our id of the message this answers")

    @model_validator(mode="after")
    def _has_content(self) -> ReplyIn:
        if not self.text.strip() and not self.attachments and self.template is None:
            raise ValueError("a reply needs text, attachments or a template")
        return self


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=65536)
