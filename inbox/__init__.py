"""The agents' side: REST API, live updates, and (later) the inbox and admin pages."""
