"""Composition root: settings, logging, the aiohttp application and the CLI."""
