"""JSON-RPC client for a trytond server: session login, context, codecs, typed errors.

One client talks to one database. Calls go to POST <url>/<db>/rpc/ with the Session header;
network failures and 5xx/429 are retried with a short back-off, then become RetryLaterError.
"""
from __future__ import annotations

import base64
import itertools
import json
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import requests
import urllib3

from ..errors import AuthError, ConfigurationError, PlatformError, RetryLaterError

# Calls that only read: safe to resend after a read timeout or a 5xx, because the server may
# have run them already. Writes (create, quote, confirm...) are resent only when the request
# provably never reached the server (connection refused); otherwise the adapter's
# look-up-by-reference makes the engine's later retry safe instead.
IDEMPOTENT = {"read", "search", "search_read", "search_count", "fields_get",
              "get_preferences", "common.db.login", "common.server.version"}


class TrytonError(PlatformError):
    """Tryton refused a call (UserError, unexpected exception...): name and message kept."""

    def __init__(self, name: str, message: str, description: str = ""):
        super().__init__(f"{name}: {message}" + (f" ({description})" if description else ""))
        self.name = name
        self.message = message
        self.description = description


def _encode(value):
    # Tryton's JSON codec: numerics must travel as tagged objects, never floats.
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # Tryton stores naive UTC
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return {"__class__": "datetime", "year": value.year, "month": value.month,
                "day": value.day, "hour": value.hour, "minute": value.minute,
                "second": value.second, "microsecond": value.microsecond}
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(obj: dict):
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        return datetime(obj["year"], obj["month"], obj["day"], obj.get("hour", 0),
                        obj.get("minute", 0), obj.get("second", 0), obj.get("microsecond", 0),
                        tzinfo=timezone.utc)
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "timedelta":
        return timedelta(seconds=obj["seconds"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def dumps(payload) -> str:
    return json.dumps(payload, default=_encode)


def loads(text: str):
    return json.loads(text, object_hook=_decode)


class TrytonClient:
    def __init__(self, url: str, database: str, login: str, password: str, *,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.5,
                 http: requests.Session | None = None):
        if not url or not database:
            raise ConfigurationError("Tryton needs a server URL and a database name")
        self.base = url.rstrip("/")
        self.database = database
        self.login_name = login or ""
        self.password = password or ""
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.http = http or requests.Session()
        self._ids = itertools.count(1)
        self._auth: str | None = None
        self._context: dict | None = None

    # -- transport -------------------------------------------------------------------------

    def _post(self, path: str, method: str, params: list, headers: dict | None = None):
        """One JSON-RPC request with retries; returns (HTTP response, decoded body or None)."""
        body = dumps({"id": next(self._ids), "method": method, "params": params})
        name = method.rsplit(".", 1)[-1] if method.startswith("model.") else method
        idempotent = name in IDEMPOTENT
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            retry_after = None
            try:
                response = self.http.post(
                    self.base + path, data=body, timeout=self.timeout,
                    headers={"Content-Type": "application/json", **(headers or {})})
            except requests.ConnectionError as exc:
                last = f"cannot reach Tryton at {self.base}: {exc.__class__.__name__}"
                # Refused/unreachable: the call never ran, so even a write may be resent.
                # A connection dropped mid-answer may have run the write: do not resend it.
                if idempotent or _never_sent(exc):
                    continue
                raise RetryLaterError(last)
            except requests.Timeout:
                last = f"Tryton at {self.base} did not answer within {self.timeout:g}s"
                if idempotent:
                    continue
                raise RetryLaterError(last)
            status = response.status_code
            if status == 429 or status >= 500:
                retry_after = _retry_after(response)
                last = f"Tryton answered HTTP {status} to {method}"
                if status == 429 or idempotent:
                    if retry_after and retry_after > self.backoff * 4:
                        # The server asked for a wait longer than our short back-off:
                        # hand it to the engine rather than blocking a worker.
                        raise RetryLaterError(last, retry_after=retry_after)
                    continue
                raise RetryLaterError(last, retry_after=retry_after)
            payload = None
            if response.headers.get("Content-Type", "").startswith("application/json"):
                payload = loads(response.text)
            return response, payload
        raise RetryLaterError(f"{last} (after {self.retries + 1} attempts)",
                              retry_after=retry_after)

    @staticmethod
    def _result(method: str, response, payload):
        if payload is None:
            raise TrytonError("HTTPError", f"HTTP {response.status_code} to {method}")
        if "error" in payload and payload["error"]:
            raise _rpc_error(payload["error"])
        return payload.get("result")

    # -- session ---------------------------------------------------------------------------

    def version(self) -> str:
        response, payload = self._post("/rpc/", "common.server.version", [])
        return self._result("common.server.version", response, payload)

    def login(self) -> None:
        response, payload = self._post(f"/{self.database}/rpc/", "common.db.login",
                                       [self.login_name, {"password": self.password}, "en"])
        if response.status_code in (401, 403):
            raise AuthError(f"Tryton refused login '{self.login_name}' on database "
                            f"'{self.database}': wrong login or password")
        if response.status_code == 404:
            raise ConfigurationError(f"Tryton has no database '{self.database}' "
                                     f"at {self.base}")
        result = self._result("common.db.login", response, payload)
        if not isinstance(result, list) or len(result) < 2:
            # LoginException: another factor (sms, device cookie...) is configured.
            raise AuthError(f"Tryton asks for more than a password for '{self.login_name}'")
        user_id, session = result[0], result[1]
        token = base64.b64encode(f"{self.login_name}:{user_id}:{session}".encode()).decode()
        self._auth = f"Session {token}"

    @property
    def context(self) -> dict:
        """The user's preferences context (company, language...): many fields need it."""
        if self._context is None:
            self._context = self.call("model.res.user.get_preferences", True, context={})
        return self._context

    def call(self, method: str, *params, context: dict | None = None):
        """Call `method` with `params`; the context always goes last (Tryton pops it)."""
        if self._auth is None:
            self.login()
        if context is None:
            context = self.context
        path = f"/{self.database}/rpc/"
        for attempt in range(2):
            response, payload = self._post(path, method, [*params, context],
                                           headers={"Authorization": self._auth})
            if response.status_code in (401, 403) and attempt == 0:
                # The session expired or was revoked: log in again once.
                self.login()
                continue
            if response.status_code in (401, 403):
                raise AuthError(f"Tryton refused the session of '{self.login_name}'")
            return self._result(method, response, payload)

    def model(self, model: str, method: str, *params, context: dict | None = None):
        return self.call(f"model.{model}.{method}", *params, context=context)

    def search_read(self, model: str, domain: list, fields: list[str], *,
                    context: dict | None = None, page: int = 500, order=None):
        """Yield every matching row, paging by `page` in id order for a stable walk."""
        offset = 0
        order = order or [["id", "ASC"]]
        while True:
            rows = self.model(model, "search_read", domain, offset, page, order, fields,
                              context=context)
            yield from rows
            if len(rows) < page:
                return
            offset += page

    def close(self) -> None:
        if self._auth is not None:
            try:
                self._post(f"/{self.database}/rpc/", "common.db.logout", [],
                           headers={"Authorization": self._auth})
            except PlatformError:
                pass  # the session expires on its own; nothing to clean up
            self._auth = None
        self.http.close()


def _never_sent(exc: requests.ConnectionError) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), urllib3.exceptions.NewConnectionError)


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _rpc_error(error) -> PlatformError:
    """Turn Tryton's error payload into a typed error."""
    if isinstance(error, list) and error and isinstance(error[0], str):
        name, args = error[0], (error[1] if len(error) > 1 else [])
        if not isinstance(args, list):
            args = [args]
        message = str(args[0]) if args else name
        description = str(args[1]) if len(args) > 1 and isinstance(args[1], str) else ""
        if name == "ConcurrencyException":
            return RetryLaterError(f"Tryton record changed meanwhile: {message}")
        if name in ("AccessError", "LoginException"):
            return AuthError(f"Tryton refused access: {message}")
        if name in ("UserError", "UserWarning", "ValidationError", "RequiredValidationError",
                    "DomainValidationError", "SelectionValidationError", "SizeValidationError",
                    "DigitsValidationError", "ForbiddenCharValidationError",
                    "RecursionError", "SQLConstraintError"):
            return TrytonError(name, message, description)
        if "database is locked" in name or "could not serialize" in name:
            return RetryLaterError(f"Tryton database busy: {name}")
        # Unexpected server exception: error = [str(exc), traceback]; keep the first line.
        return TrytonError("ServerError", name.splitlines()[0] if name else "unknown error")
    return TrytonError("ServerError", str(error))
