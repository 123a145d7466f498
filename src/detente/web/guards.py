"""Middleware and error handlers that keep the server up under hostile requests.

* the ``Host`` header must name this server (a DNS-rebinding page names its own domain): 400;
* request bodies are counted while they stream in, chunked ones included, and reading stops at
  the cap: 413 (the body is never held beyond the cap);
* every response carries the usual security headers; the page's Content-Security-Policy allows
  exactly its own inline script (by hash), its styles, and requests to this server;
* errors are one line of bounded length: FastAPI's 422, which echoes the input, is replaced.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detente.scenario.yamlio import format_loc
from detente.store import StoreError
from detente.web.settings import ServerSettings

_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


@lru_cache(maxsize=1)
def page_csp() -> bytes:
    """The page's policy: its inline scripts by SHA-256, inline styles (the page sets style
    attributes), fetches to this origin only, no frames, no forms elsewhere, no plugins."""
    page = resources.files("detente.web").joinpath("index.html").read_text(encoding="utf-8")
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ).encode()


def host_name(header: str) -> str:
    """The name in a Host header, lower case, without port or brackets or a final dot."""
    h = header.strip().lower()
    if h.startswith("["):
        h = h[1 : h.find("]")] if "]" in h else h[1:]
    elif h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h.rstrip(".")


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class TooLarge(Exception):
    """The request body passed the cap."""


class Guards:
    """Pure ASGI middleware: the Host check, the streamed body cap, the security headers."""

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = settings.hosts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        host = headers.get(b"host", b"").decode("latin-1")
        if host_name(host) not in self.hosts:
            await _reply(send, 400, "Host header does not name this server (see --allow-host)")
            return
        cap = self.settings.max_body_bytes
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            status = 400 if not length.isdigit() else 413
            await _reply(send, status, f"request too large: at most {cap:,} bytes")
            return
        try:
            body = await _read_body(receive, cap)
        except TooLarge:
            await _reply(send, 413, f"request too large: at most {cap:,} bytes")
            return
        await self.app(scope, _replay(body, receive), self._with_headers(send))

    def _with_headers(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(_COMMON_HEADERS)
                html = any(
                    k.lower() == b"content-type" and v.startswith(b"text/html")
                    for k, v in message.get("headers", [])
                )
                csp = page_csp() if html else _API_CSP
                extra.append((b"content-security-policy", csp))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped


async def _read_body(receive: Receive, cap: int) -> list[Message]:
    """Every body message up to the end, or :class:`TooLarge` as soon as the count passes
    ``cap`` (what was read is dropped; the rest is never read)."""
    messages: list[Message] = []
    total = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # a disconnect: the app sees it
        total += len(message.get("body", b""))
        if total > cap:
            raise TooLarge
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives the body read already, then what the server sends (a disconnect)."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *_COMMON_HEADERS,
        (b"content-security-policy", _API_CSP),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def validation_detail(exc: RequestValidationError) -> str:
    """FastAPI's first validation problem as ``field: message`` (never the input itself)."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    err = errors[0]
    loc = [p for p in err.get("loc", ()) if p != "body"]
    msg = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        msg = "Extra inputs are not permitted"
    more = f" ({len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{format_loc(loc)}: {msg}{more}"


def install_guards(app: FastAPI, settings: ServerSettings) -> None:
    """The middleware and the one-line error handlers, on ``app``."""
    limit = settings.max_detail

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": one_line(validation_detail(exc), limit)}, 422)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers) if exc.headers else None
        detail = one_line(str(exc.detail), limit)
        return JSONResponse({"detail": detail}, exc.status_code, headers=headers)

    async def on_store(request: Request, exc: Exception) -> JSONResponse:
        # a store the server cannot use (newer, foreign, read-only, an unreadable row) is the
        # server's condition, not the request's: 503 with the store's one line
        return JSONResponse({"detail": one_line(f"run store: {exc}", limit)}, 503)

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[JSONResponse]]] = {
        RequestValidationError: on_validation,
        StarletteHTTPException: on_http,
        StoreError: on_store,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
    app.add_middleware(Guards, settings=settings)
