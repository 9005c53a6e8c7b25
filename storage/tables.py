"""The schema, as SQLAlchemy Core tables. Migrations in storage/migrations mirror it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)

from storage.types import Id, Json, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("email", String(320), index=True),
    Column("phone", String(40), index=True),
    Column("tags", Json, nullable=False, default=list),
    Column("attrs", Json, nullable=False, default=dict),
    Column("reachable", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UTCDateTime, nullable=False),
)

# One row per (channel kind, provider address): a Telegram user id, a wa_id, an email address...
contact_identities = Table(
    "contact_identities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("address", String(320), nullable=False),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "address"),
)

dialogs = Table(
    "dialogs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("thread_key", String(500), nullable=False, server_default=""),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("tags", Json, nullable=False, default=list),
    Column("priority", String(10), nullable=False, server_default="normal"),
    Column("subject", String(500), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_message_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Index("ix_dialogs_thread", "contact_id", "channel", "thread_key"),
    Index("ix_dialogs_last_message_at", "last_message_at", "id"),
    # At most one dialog that is not closed per contact thread, even with several writers.
    Index(
        "uq_dialogs_open_thread",
        "contact_id",
        "channel",
        "thread_key",
        unique=True,
        sqlite_where=text("status <> 'closed'"),
        postgresql_where=text("status <> 'closed'"),
    ),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # Always set by the writers; nullable only because the first schema allowed it.
    Column("dialog_id", Id, ForeignKey("dialogs.id"), index=True),
    Column("direction", String(4), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("external_id", String(300)),
    Column("kind", String(20), nullable=False, server_default="text"),
    Column("text", Text, nullable=False, server_default=""),
    Column("status", String(10), nullable=False),
    Column("error", Text),
    Column("author", String(100)),
    Column("automated", Boolean, nullable=False, server_default=text("false")),
    Column("thread_hints", Json, nullable=False, default=dict),
    Column("raw", Json),
    Column("history", Json, nullable=False, default=list),
    Column("sent_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("routed_at", UTCDateTime),
    # Redelivery of a provider's message id never creates a second inbound message.
    Index(
        "uq_messages_inbound_external_id",
        "channel",
        "external_id",
        unique=True,
        sqlite_where=text("direction = 'in'"),
        postgresql_where=text("direction = 'in'"),
    ),
    Index(
        "ix_messages_unrouted",
        "id",
        sqlite_where=text("routed_at IS NULL AND direction = 'in'"),
        postgresql_where=text("routed_at IS NULL AND direction = 'in'"),
    ),
    # Reports count messages per channel, direction and period from this index alone. Channel
    # leads: with direction first, SQLite took it for any lookup by direction (0008).
    Index("ix_messages_volume", "channel", "direction", "created_at"),
    # Status webhooks find the outbound message by the provider's id.
    Index(
        "ix_messages_outbound_external_id",
        "channel",
        "external_id",
        sqlite_where=text("direction = 'out'"),
        postgresql_where=text("direction = 'out'"),
    ),
)

# Full-text search (storage/search.py, migration 0005): on PostgreSQL this GIN index; on SQLite
# an FTS5 table `messages_fts` over messages.text kept in step by triggers (not modelled here).
Index(
    "ix_messages_text_fts",
    func.to_tsvector(literal_column("'simple'::regconfig"), messages.c.text),
    postgresql_using="gin",
).ddl_if(dialect="postgresql")

attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", Id, ForeignKey("messages.id"), index=True),
    Column("filename", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("login", String(100), nullable=False, unique=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("role", String(10), nullable=False, server_default="agent"),
    Column("password_hash", String(200)),
    Column("token_hash", String(64), unique=True),
    Column("status", String(10), nullable=False, server_default="offline"),
    Column("status_changed_at", UTCDateTime),
    Column("last_assigned_at", UTCDateTime),  # least-loaded ties go to the longest idle
    Column("created_at", UTCDateTime, nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dialog_id", Id, ForeignKey("dialogs.id"), nullable=False, index=True),
    Column("title", String(300), nullable=False, server_default=""),
    Column("queue", String(100), nullable=False),
    Column("status", String(12), nullable=False),
    Column("assignee", String(100), index=True),
    Column("priority", String(10), nullable=False, server_default="normal"),
    Column("weight", Float, nullable=False, server_default=text("1.0")),
    Column("tags", Json, nullable=False, default=list),
    Column("sla_policy", String(100)),
    Column("first_response_due", UTCDateTime),
    Column("resolution_due", UTCDateTime),
    Column("first_response_at", UTCDateTime),
    Column("breached", Boolean, nullable=False, server_default=text("false")),
    Column("decision_id", Id),
    Column("created_at", UTCDateTime, nullable=False),
    Column("assigned_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    # Why the current assignee got the task: reason and candidates (or how it came back).
    Column("assignment", Json),
    # Set while the task waits on the customer: its SLA clocks are paused since then.
    Column("held_at", UTCDateTime),
    # From the decision: skills the task needs, and the agent a rule's `assign:` reserves it for.
    Column("skills", Json),
    Column("assign_to", String(100)),
    Index("ix_tasks_queue_status", "queue", "status"),
    # Every dispatch round reads open tasks by status (agents' loads, waiting tasks, due
    # times): done tasks pile up forever and must not be read. Covers the load sums too.
    Index("ix_tasks_status_load", "status", "assignee", "weight"),
)

# Every routing decision with the rules that fired and why: the audit trail admins read.
decisions = Table(
    "decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False, index=True),
    Column("dialog_id", Id, ForeignKey("dialogs.id"), nullable=False),
    Column("rules_version", String(64), nullable=False),
    Column("body", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False, unique=True),
    Column("channel", String(20), nullable=False),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

# Where a poller or long-poller has got to: IMAP UIDVALIDITY/UID, Telegram offsets.
channel_cursors = Table(
    "channel_cursors",
    metadata,
    Column("channel", String(20), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Telegram update ids each bot has already handled: a set, not a high-water mark, because a
# bot's update ids restart at random after a quiet week. Rows older than a few days are pruned.
telegram_seen_updates = Table(
    "telegram_seen_updates",
    metadata,
    Column("bot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("seen_at", UTCDateTime, nullable=False, index=True),
)

# How far each agent has read each dialog: inbound messages after `last_message_id` are unread.
dialog_reads = Table(
    "dialog_reads",
    metadata,
    Column("agent", String(100), primary_key=True),
    Column("dialog_id", Id, ForeignKey("dialogs.id"), primary_key=True),
    Column("last_message_id", Id, nullable=False),
    Column("read_at", UTCDateTime, nullable=False),
)

# An agent's saved inbox filters: a name and the list page's query string.
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("agent", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("query", String(1000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("agent", "name"),
)

# Reply templates shared by the team; {{contact.name}}-style variables (dialogs/canned.py).
canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
