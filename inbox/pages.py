"""The start page a newcomer sees at / ."""

from __future__ import annotations

import html

from aiohttp import web

_START_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Relaydesk</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}
code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:4px}
pre{padding:1rem;overflow:auto}</style>
</head><body>
<h1>Relaydesk is running</h1>
<p>Messages from every channel become dialogs; <code>rules.yaml</code> turns them into tasks
for agents. This server is up and its database answers.</p>
<h2>Try it</h2>
<pre>curl -s -X POST http://HOST/api/v1/messages \\
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  -d '{"channel":"api","external_id":"m-1","contact":{"id":"c-1","name":"Ann"},"text":"Hello"}'
curl -s http://HOST/api/v1/dialogs -H "Authorization: Bearer $TOKEN"</pre>
<p><code>$TOKEN</code> is the admin API token printed when this server first started (or
<code>RELAYDESK_API_TOKEN</code>). The API is described at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
"""


async def start_page(request: web.Request) -> web.Response:
    host = html.escape(request.host, quote=True)
    return web.Response(text=_START_PAGE.replace("HOST", host), content_type="text/html")
