"""Channel adapters: one package per channel kind (email, telegram, whatsapp, widget)."""
