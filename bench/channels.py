"""Channel webhook ingest and outbox send throughput, beside the generic API, in one run.

    python bench/channels.py [--messages 10000] [--concurrency 50] [--replies 2000]
                             [--telegram-replies 300]

Ingest: for each payload kind a fresh `relaydesk serve` process (SQLite, RELAYDESK_WORKERS=
ingest, so only the ingest path runs) is started with both channels configured against the
fake providers from tests/fakes, then a separate load process sends N messages over C
keep-alive connections and reports messages/s and p50/p99 latency from send to acknowledgement:
  api        POST /api/v1/messages (the baseline the channels are compared with)
  telegram   POST /webhooks/telegram, one text update each (distinct update_id and message_id),
             with X-Telegram-Bot-Api-Secret-Token
  whatsapp   POST /webhooks/whatsapp, one text message each (distinct wamid), signed with
             X-Hub-Signature-256 over the exact body
All three use the same 1,000 contacts and the same text. Ratios are against `api` from the same run.

Outbox: M dialogs are created through the channel's webhook and M replies queued through
POST /api/v1/dialogs/{id}/replies by a server that only ingests; then a server with
RELAYDESK_WORKERS=all starts on that database and drains the outbox into the fake provider.
Sends/s is counted at the fake, from its first accepted send to its M-th. Each channel paces
itself to the rate limit it declares (WhatsApp Cloud API 80/s per number by default, Telegram
30/s overall and 1/s per chat), so the figure is expected at, not above, that limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the real fake providers live in tests/fakes

from servers import bench_env, relaydesk_servers  # noqa: E402

from channels.telegram.webhook import SECRET_HEADER  # noqa: E402 -- needs the path above
from tests.fakes import graph_api, telegram_api  # noqa: E402

T = TypeVar("T")
API_TOKEN = "bench-token"
TG_SECRET = "bench-telegram-secret"
CONTACTS = 1000
TEXT = "Message number {i}: where is my order?"
KINDS = ("api", "telegram", "whatsapp")


# ---- request bodies, the same contacts and text for every kind -----------------------------------


def build_request(
    kind: str, i: int, run_id: str, contacts: int = CONTACTS
) -> tuple[str, bytes, dict[str, str]]:
    """(path, body, headers) of message `i` of this run, as the provider would send it."""
    text = TEXT.format(i=i)
    contact = i % contacts
    if kind == "api":
        body = json.dumps(
            {
                "channel": "api",
                "external_id": f"{run_id}-{i}",
                "contact": {"id": f"c-{contact}", "name": f"Contact {contact}"},
                "text": text,
            }
        ).encode()
        return "/api/v1/messages", body, {"Authorization": f"Bearer {API_TOKEN}"}
    if kind == "telegram":
        chat = 500_000_000 + contact
        user = {"id": chat, "is_bot": False, "first_name": "Contact", "last_name": str(contact)}
        update = {
            "update_id": 100_000_000 + i,
            "message": {
                "message_id": 10_000 + i,
                "from": user,
                "chat": {**{k: v for k, v in user.items() if k != "is_bot"}, "type": "private"},
                "date": int(time.time()),
                "text": text,
            },
        }
        headers = {SECRET_HEADER: TG_SECRET}
        return "/webhooks/telegram", json.dumps(update).encode(), headers
    wa_id = f"4477009{contact:05d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": graph_api.PHONE_ID},
        "contacts": [{"profile": {"name": f"Contact {contact}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.BENCH{run_id}{i:09d}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}
            ],
        }
    ).encode()
    headers = {"X-Hub-Signature-256": graph_api.sign_webhook(body, graph_api.APP_SECRET)}
    return "/webhooks/whatsapp", body, headers


# ---- load generator (its own process) ------------------------------------------------------------


def run_load(
    url: str, kind: str, total: int, concurrency: int, run_id: str, first: int, contacts: int
) -> None:
    import aiohttp
    import uvloop

    # Bodies (and WhatsApp's HMACs) are built before the clock starts: only the server is timed.
    requests = [build_request(kind, first + i, run_id, contacts) for i in range(total)]

    async def main() -> dict[str, float]:
        latencies: list[float] = []
        errors = 0
        queue = iter(requests)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                nonlocal errors
                for path, body, headers in queue:
                    t0 = time.perf_counter()
                    async with session.post(
                        url + path,
                        data=body,
                        headers={**headers, "Content-Type": "application/json"},
                    ) as r:
                        await r.read()
                        if r.status not in (200, 201):
                            errors += 1
                    latencies.append(time.perf_counter() - t0)

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
        latencies.sort()
        q = statistics.quantiles(latencies, n=100)
        return {
            "rate": total / elapsed,
            "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000,
            "errors": errors,
        }

    print(json.dumps(uvloop.run(main())), flush=True)


def load(
    url: str,
    kind: str,
    total: int,
    concurrency: int,
    run_id: str,
    *,
    first: int = 0,
    contacts: int = CONTACTS,
) -> Any:
    args = [url, kind, str(total), str(concurrency), run_id, str(first), str(contacts)]
    out = subprocess.run(
        [sys.executable, __file__, "--load", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---- the fake providers, on an event loop in a thread of this process ----------------------------


class CountingTelegram(telegram_api.FakeTelegram):
    """The fake Bot API, also waking waiters on each accepted sendMessage."""

    def __init__(self) -> None:
        super().__init__(telegram_api.TOKEN)
        self.sent = 0
        self._sent_changed = asyncio.Condition()

    async def _m_sendmessage(self, params: dict[str, Any], files: Any) -> Any:
        result = await super()._m_sendmessage(params, files)
        if isinstance(result, dict):
            self.sent += 1
            async with self._sent_changed:
                self._sent_changed.notify_all()
        return result

    async def wait_sent(self, count: int, within: float) -> None:
        async with asyncio.timeout(within), self._sent_changed:
            await self._sent_changed.wait_for(lambda: self.sent >= count)


class Fakes:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._graph_cm: AbstractAsyncContextManager[graph_api.GraphApiFake] | None = None

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self._thread.start()
        self._graph_cm = graph_api.running_graph_api()
        self.graph = self.call(self._graph_cm.__aenter__())
        self.telegram = self.call(self._start_telegram())

    async def _start_telegram(self) -> CountingTelegram:
        fake = CountingTelegram()
        await fake.start()
        return fake

    def stop(self) -> None:
        if self._graph_cm is not None:
            self.call(self._graph_cm.__aexit__(None, None, None))
            self.call(self.telegram.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def env(self) -> dict[str, str]:
        return {
            **graph_api.whatsapp_env(self.graph),
            "TELEGRAM_BOT_TOKEN": telegram_api.TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "TELEGRAM_API_BASE": self.telegram.base_url,
        }

    def count_sends(self, kind: str, total: int, within: float) -> tuple[float, float]:
        """Block until the fake has accepted `total` sends: (time of the first, of the last)."""

        async def wait(n: int) -> None:
            if kind == "whatsapp":
                await self.graph.wait_delivered(n, within)
            else:
                await self.telegram.wait_sent(n, within)

        self.call(wait(1))
        first = time.perf_counter()
        self.call(wait(total))
        return first, time.perf_counter()

    def sent(self, kind: str) -> int:
        return len(self.graph.delivered) if kind == "whatsapp" else self.telegram.sent


# ---- servers -------------------------------------------------------------------------------------


@contextmanager
def relaydesk(env: dict[str, str], db: Path, rules: Path, workers: str) -> Iterator[str]:
    """A `relaydesk serve` process on SQLite file `db`; yields its base URL once it serves."""
    db_url = f"sqlite+aiosqlite:///{db}"
    with relaydesk_servers(db_url, rules, {**env, "RELAYDESK_WORKERS": workers}, db.parent) as urls:
        yield urls[0]


# ---- outbox set-up: dialogs and queued replies ---------------------------------------------------


async def queue_replies(url: str, kind: str, total: int) -> int:
    """Queue one reply on each of the `kind` dialogs; the number queued."""
    import aiohttp

    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    ids: list[int] = []
    async with aiohttp.ClientSession(headers=auth) as session:
        cursor: str | None = None
        while True:
            query = f"channel={kind}&limit=200" + (f"&cursor={cursor}" if cursor else "")
            async with session.get(f"{url}/api/v1/dialogs?{query}") as r:
                page = await r.json()
            ids += [int(d["id"]) for d in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        if len(ids) != total:
            raise RuntimeError(f"expected {total} {kind} dialogs, found {len(ids)}")
        todo = iter(ids)

        async def worker() -> None:
            for dialog_id in todo:
                body = {"text": f"Reply to dialog {dialog_id}: it ships tomorrow."}
                async with session.post(
                    f"{url}/api/v1/dialogs/{dialog_id}/replies", json=body
                ) as r:
                    if r.status != 201:
                        raise RuntimeError(f"reply refused: {r.status} {await r.text()}")

        await asyncio.gather(*(worker() for _ in range(20)))
    return len(ids)


def outbox_run(
    kind: str, total: int, env: dict[str, str], fakes: Fakes, work: Path
) -> dict[str, float]:
    db = work / f"outbox-{kind}.db"
    rules = ROOT / "tests" / "data" / "rules" / "basic.yaml"  # no auto-replies to count
    with relaydesk(env, db, rules, "ingest") as url:
        ingested = load(url, kind, total, 20, f"ob{kind[0]}", contacts=total)  # a dialog each
        if ingested["errors"]:
            raise RuntimeError(f"{kind}: {ingested['errors']} webhooks refused")
        asyncio.run(queue_replies(url, kind, total))
    before = fakes.sent(kind)
    if before:
        raise RuntimeError(f"{kind}: the fake counted {before} sends before the drain")
    with relaydesk(env, db, rules, "all"):
        first, last = fakes.count_sends(kind, total, within=max(60.0, total / 10))
    return {"sent": fakes.sent(kind), "rate": (total - 1) / (last - first), "seconds": last - first}


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the rounds; errors summed."""
    return {
        "rate": statistics.median(r["rate"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


# ---- orchestration -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="ingest rounds, interleaved")
    parser.add_argument(
        "--replies", type=int, default=2000, help="WhatsApp replies to drain (0 to skip)"
    )
    parser.add_argument("--telegram-replies", type=int, default=300, help="0 to skip")
    parser.add_argument("--load", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        url, kind, n, c, run_id, first, contacts = args.load
        run_load(url, kind, int(n), int(c), run_id, int(first), int(contacts))
        return

    work = Path(tempfile.mkdtemp(prefix="relaydesk-bench-channels-"))
    fakes = Fakes()
    fakes.start()
    env = {**bench_env(work, API_TOKEN), **fakes.env()}
    warmup = min(2000, args.messages // 5)
    rounds: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    outbox: list[tuple[str, dict[str, float]]] = []
    try:
        for n in range(args.rounds):  # interleaved, so drift in the machine hits every kind
            for kind in KINDS:
                db = work / f"ingest-{kind}-{n}.db"
                with relaydesk(env, db, ROOT / "rules.yaml", "ingest") as url:
                    load(url, kind, warmup, args.concurrency, "warm", first=args.messages)
                    rounds[kind].append(load(url, kind, args.messages, args.concurrency, "run"))
        if args.replies:
            outbox.append(("whatsapp", outbox_run("whatsapp", args.replies, env, fakes, work)))
        if args.telegram_replies:
            outbox.append(
                ("telegram", outbox_run("telegram", args.telegram_replies, env, fakes, work))
            )
    finally:
        fakes.stop()
        shutil.rmtree(work, ignore_errors=True)

    ingest = [(kind, median_run(runs)) for kind, runs in rounds.items()]
    base = dict(ingest)["api"]["rate"]
    print(
        f"\nIngest: {args.messages} messages, {args.concurrency} connections, load from another "
        "process;\nrelaydesk serve on SQLite, RELAYDESK_WORKERS=ingest, a fresh process each;\n"
        f"median of {args.rounds} interleaved rounds (msgs/s of each round in brackets)\n"
    )
    print(
        f"{'payload':<34} {'msgs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs api':>7} {'errors':>7}"
        "  rounds"
    )
    labels = {
        "api": "api      POST /api/v1/messages",
        "telegram": "telegram POST /webhooks/telegram",
        "whatsapp": "whatsapp POST /webhooks/whatsapp",
    }
    for kind, r in ingest:
        print(
            f"{labels[kind]:<34} {r['rate']:>8.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['rate'] / base:>6.0%} {int(r['errors']):>7}  "
            f"[{', '.join(format(x['rate'], '.0f') for x in rounds[kind])}]"
        )
    print(
        "\nOutbox: queued replies drained by RELAYDESK_WORKERS=all, counted at the fake provider\n"
    )
    print(f"{'channel':<10} {'replies':>8} {'sent':>6} {'sends/s':>8} {'declared limit':>15}")
    limits = {"whatsapp": "80/s", "telegram": "30/s, 1/s/chat"}
    replies = {"whatsapp": args.replies, "telegram": args.telegram_replies}
    for kind, r in outbox:
        print(
            f"{kind:<10} {replies[kind]:>8} {int(r['sent']):>6} {r['rate']:>8.1f} "
            f"{limits[kind]:>15}"
        )


if __name__ == "__main__":
    main()
