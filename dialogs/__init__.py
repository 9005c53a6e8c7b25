"""The domain: contacts, dialogs, messages, tasks, and the pipeline that orders their effects."""
