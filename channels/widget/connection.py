"""`GET /widget/ws`: the handshake (hello → welcome) and the loop over a visitor's frames."""

from __future__ import annotations

import contextlib

import structlog
from aiohttp import WSMsgType, web

from channels.widget import protocol
from channels.widget.identity import IdentityRefused, resolve_visitor
from channels.widget.socket import SocketDeps, VisitorSocket

log = structlog.get_logger(__name__)


async def serve_socket(request: web.Request, deps: SocketDeps, site: str) -> web.WebSocketResponse:
    """Run one upgraded connection until it closes (the origin was checked by the caller)."""
    ip = request.remote or "unknown"
    # Frames over MAX_FRAME_BYTES get a bad_frame error; only far larger ones end the socket.
    ws = web.WebSocketResponse(
        heartbeat=deps.config.heartbeat, max_msg_size=4 * protocol.MAX_FRAME_BYTES
    )
    await ws.prepare(request)
    socket = await _greet(ws, deps, ip, site)
    if socket is None:
        return ws
    with structlog.contextvars.bound_contextvars(visitor=socket.address):
        log.info("widget_connected", signed=socket.visitor.signed)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    await socket.push(protocol.build_error("bad_frame", "frames are JSON text"))
                    continue
                try:
                    frame = protocol.parse_frame(msg.data)
                except protocol.BadFrame as exc:
                    await socket.push(protocol.build_error("bad_frame", exc.message))
                    continue
                await socket.handle(frame)
        finally:
            deps.hub.leave(socket)
            log.info("widget_disconnected")
    return ws


async def _greet(
    ws: web.WebSocketResponse, deps: SocketDeps, ip: str, site: str
) -> VisitorSocket | None:
    """Read the hello frame and answer welcome; None (and the socket closed) when refused."""
    try:
        msg = await ws.receive(timeout=deps.config.heartbeat)
    except TimeoutError:
        await _refuse(ws, "bad_frame", "send hello first")
        return None
    if msg.type != WSMsgType.TEXT:
        await _refuse(ws, "bad_frame", "send hello first")
        return None
    try:
        frame = protocol.parse_frame(msg.data)
        if not isinstance(frame, protocol.Hello):
            raise protocol.BadFrame("the first frame must be hello")
        visitor = resolve_visitor(
            visitor_id=frame.visitor,
            user_id=frame.user_id,
            user_hash=frame.user_hash,
            identity_secret=deps.config.identity_secret,
            token=frame.token,
            token_keys=deps.config.token_keys,
        )
    except protocol.BadFrame as exc:
        await _refuse(ws, "bad_frame", exc.message)
        return None
    except IdentityRefused as exc:
        log.info("widget_identity_refused", code=exc.code)
        await _refuse(ws, exc.code, exc.message)
        return None
    socket = VisitorSocket(ws, visitor, ip=ip, site=site, hello=frame, deps=deps)
    await socket.welcome()
    return socket


async def _refuse(ws: web.WebSocketResponse, code: str, message: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_json(protocol.build_error(code, message))
    await ws.close(code=4400, message=code.encode())
