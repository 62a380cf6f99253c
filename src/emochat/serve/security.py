"""Who may talk to the service: the bearer token, the Host and Origin checks.

Everything here runs before routing (one ASGI middleware), so no endpoint can forget
it, ``/docs`` and ``/openapi.json`` included; ``/v1/health`` alone answers without the
token (liveness probes), and then with its status and version only.

- **Token.** ``Authorization: Bearer TOKEN`` on every request. A browser cannot send that
  header when it opens the report page or when the page's ``<video>`` loads the media, so
  a GET may carry ``?token=TOKEN`` once: the answer is a redirect to the same URL without
  it that sets an HttpOnly, ``SameSite=Strict`` cookie. The cookie is accepted for GET and
  HEAD only, so it can never authorize a state-changing request (no CSRF through it).
- **Host.** A request whose ``Host`` is not the bound address, a loopback name, an IP
  literal or an ``--allowed-host`` is refused: that is how DNS rebinding (a foreign name
  resolving to this server) is told apart. An IP literal is safe because the browser's
  origin is then that address itself, which no attacker's name can rebind.
- **Origin.** POST, PUT, PATCH and DELETE are refused when ``Origin`` is present and is
  not this server's own, or when ``Sec-Fetch-Site`` says ``cross-site``: a web page the
  user visits cannot queue or delete jobs.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_COOKIE = "emochat_token"
TOKEN_QUERY = "token"
TOKEN_FILE = "token"
OPEN_PATHS = frozenset({"/v1/health"})
"""Paths that answer without the token (and say less without it)."""
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (what only this machine reaches)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def split_host(value: str) -> str:
    """The host part of a ``Host`` header or URL netloc (``[::1]:8000`` -> ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _default_port_stripped(netloc: str, scheme: str) -> str:
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    netloc = netloc.lower()
    return netloc[: -len(default)] if default and netloc.endswith(default) else netloc


class AuthError(ValueError):
    """The auth options cannot go together (the message is for the user)."""


def startup_token(
    host: str, token: str | None, no_auth: bool, data_dir: Path
) -> tuple[str | None, bool]:
    """The token the server will require, and whether it was generated now.

    A given token is used as it is. Without one, a loopback bind runs without auth and
    any other bind gets a fresh random token, written to ``DATA_DIR/token`` (mode 0600) so
    a local client can read it. ``no_auth`` (no token given with it) is refused unless
    the bind is loopback.
    """
    token_file = Path(data_dir) / TOKEN_FILE
    if no_auth:
        if not is_loopback(host):
            raise AuthError(
                f"--no-auth is allowed only on a loopback address, not --host {host}; "
                "clients must send the token there"
            )
        if token:
            raise AuthError("--no-auth and --token conflict")
    generated = not token and not no_auth and not is_loopback(host)
    if generated:
        token = secrets.token_urlsafe(32)
        token_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), 0o600)  # it may have existed with wider rights
            fh.write(token + "\n")
    else:  # a token file left by an earlier start would mislead a client
        token_file.unlink(missing_ok=True)
    return token, generated


def allowed_host_names(bound_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The ``Host`` names the server answers to, besides any IP literal."""
    names = {*LOOPBACK_NAMES, split_host(bound_host)}
    names.update(split_host(h) for h in extra if h)
    return frozenset(names)


class RequestGuard:
    """ASGI middleware: Host, Origin and token checks before any route runs."""

    def __init__(self, app: ASGIApp, *, token: str | None, allowed_hosts: frozenset[str]):
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"].upper()
        refusal = self._refusal(headers, method)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if self.token and method == "GET" and TOKEN_QUERY in _query(scope):
            await self._token_redirect(scope)(scope, receive, send)
            return
        scope.setdefault("state", {})["authorized"] = self._authorized(headers, method)
        if not scope["state"]["authorized"] and scope["path"] not in OPEN_PATHS:
            await _error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    def _refusal(self, headers: dict[str, str], method: str) -> JSONResponse | None:
        host_header = headers.get("host", "")
        host = split_host(host_header)
        if not host or (host not in self.allowed_hosts and not _is_ip_literal(host)):
            return _error(
                403,
                f"unexpected Host {host_header!r}; start the server with --allowed-host "
                "NAME to answer to that name",
            )
        if method not in STATE_CHANGING:
            return None
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return _error(403, "cross-site request refused")
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            own = _default_port_stripped(host_header, parts.scheme)
            if parts.scheme not in ("http", "https") or (
                _default_port_stripped(parts.netloc, parts.scheme) != own
            ):
                return _error(403, f"cross-origin request from {origin!r} refused")
        return None

    def _authorized(self, headers: dict[str, str], method: str) -> bool:
        if not self.token:
            return True
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self._matches(credentials.strip()):
            return True
        if method in ("GET", "HEAD"):
            cookie = SimpleCookie()
            try:
                cookie.load(headers.get("cookie", ""))
            except Exception:  # a malformed Cookie header is no credential
                return False
            morsel = cookie.get(TOKEN_COOKIE)
            return morsel is not None and self._matches(morsel.value)
        return False

    def _matches(self, candidate: str) -> bool:
        assert self.token is not None
        return secrets.compare_digest(candidate.encode(), self.token.encode())

    def _token_redirect(self, scope: Scope) -> JSONResponse | RedirectResponse:
        query = _query(scope)
        if not self._matches(query.pop(TOKEN_QUERY)):
            return _error(401, "wrong token", {"WWW-Authenticate": "Bearer"})
        target = scope["path"] + (f"?{urlencode(query)}" if query else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(TOKEN_COOKIE, self.token or "", httponly=True, samesite="strict")
        return response


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)
