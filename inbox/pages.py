"""The demo page a newcomer sees at / : chat as a customer here, answer as an agent in /inbox."""

from __future__ import annotations

import html

from aiohttp import web

_START_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Relaydesk — demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;
color:#111}code,pre{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}
pre{padding:1rem;overflow:auto}ol li{margin:.4rem 0}.lead{font-size:1.15rem}
a.button{display:inline-block;background:#2563eb;color:#fff;padding:.5rem 1rem;border-radius:8px;
text-decoration:none}</style>
</head><body>
<h1>Relaydesk is running</h1>
<p class="lead">This page is a demo shop front with the Relaydesk chat widget on it: the
bubble in the corner. Try the whole loop in two tabs:</p>
<ol>
<li><b>As a customer</b>, here: open the chat and write a message (any language; try
attaching a picture).</li>
<li><b>As an agent</b>: open <a href="/inbox" target="_blank" rel="noopener">the inbox</a>
in another tab and log in as <code>admin</code> with the one-time password this server printed
when it first started. Your message is there as a dialog; answer it.</li>
<li>The answer appears here, live. Reload this page: the conversation is still there.</li>
</ol>
<p><a class="button" href="/inbox" target="_blank" rel="noopener">Open the inbox</a></p>
<h2>Put the widget on your site</h2>
<pre>&lt;script src="http://HOST/widget.js" data-site="main" async&gt;&lt;/script&gt;</pre>
<p>Allow your site's origin with <code>RELAYDESK_WIDGET_ORIGINS=https://www.example.com</code>
(by default only this server's own pages may embed it). Signed identity for your logged-in
users, uploads and the other settings: <code>docs/channels.md</code>.</p>
<h2>Send messages from scripts</h2>
<pre>curl -s -X POST http://HOST/api/v1/messages \\
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  -d '{"channel":"api","external_id":"m-1","contact":{"id":"c-1","name":"Ann"},"text":"Hello"}'
curl -s http://HOST/api/v1/dialogs -H "Authorization: Bearer $TOKEN"</pre>
<p><code>$TOKEN</code> is the admin API token printed when this server first started (or
<code>RELAYDESK_API_TOKEN</code>). The API is described at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
<script src="/widget.js" data-site="demo" async></script>
</body></html>
"""


async def start_page(request: web.Request) -> web.Response:
    host = html.escape(request.host, quote=True)
    return web.Response(text=_START_PAGE.replace("HOST", host), content_type="text/html")
