"""The WhatsApp Cloud API channel: webhooks in, Graph API messages out."""
