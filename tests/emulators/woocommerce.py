"""WooCommerce REST v3 emulator served over real HTTP on 127.0.0.1 for adapter tests and benches.

This module does the transport: key auth (Basic or query string) with read/write permissions,
routing, pagination headers, per-request latency, scripted faults and a request log. The shop's
data and rules live in woocommerce_store.py (catalogue) and woocommerce_orders.py (orders).
"""
from __future__ import annotations

import base64
import hmac
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from .woocommerce_orders import WooShop
from .woocommerce_routes import ROUTES
from .woocommerce_store import WooError, invalid_param

API = "/wp-json/wc/v3"


@dataclass
class LoggedRequest:
    method: str
    path: str      # below /wp-json/wc/v3, e.g. "/products/batch"
    query: dict
    items: int     # objects in a batch body (create+update+delete), else 1
    status: int    # 0 when the connection was dropped
    at: float = field(default_factory=time.monotonic)  # when it was answered (system-wide clock)


@dataclass
class Fault:
    kind: str            # status | slow | malformed | truncated | reset | pass (no fault)
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0   # for "slow": seconds to hold the answer (the write still happens)
    match: str | None = None  # only requests whose path contains this


class WooCommerceEmulator:
    """A shop on a free loopback port; start()/stop() or use it as a context manager."""

    def __init__(self, consumer_key: str = "ck_test", consumer_secret: str = "cs_test",
                 permissions: str = "read_write", latency: float = 0.0,
                 item_latency: float = 0.0, batch_limit: int = 100, version: str = "9.3.3",
                 utc_offset_hours: float = 2.0):
        self.shop = WooShop(batch_limit=batch_limit, utc_offset_hours=utc_offset_hours)
        self.keys = {consumer_key: (consumer_secret, permissions)}
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.latency, self.item_latency, self.version = latency, item_latency, version
        self.log: list[LoggedRequest] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "WooCommerceEmulator":
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 128
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- test controls ----------------------------------------------------------------------
    def add_key(self, consumer_key: str, consumer_secret: str, permissions: str) -> None:
        self.keys[consumer_key] = (consumer_secret, permissions)

    def fail(self, kind: str = "status", count: int = 1, after: int = 0, **options) -> None:
        """Script `count` matching requests (status/slow/malformed/truncated/reset), after
        letting `after` matching requests through untouched."""
        with self._lock:
            self._faults.extend(Fault("pass", match=options.get("match")) for _ in range(after))
            self._faults.extend(Fault(kind, **options) for _ in range(count))

    def requests(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Logged requests, optionally filtered by method and a regex on the path."""
        with self._lock:
            return [r for r in self.log if (method is None or r.method == method)
                    and (path is None or re.fullmatch(path, r.path))]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def tick(self, seconds: float) -> None:
        """Move the shop clock forward (dates have one-second resolution, like WooCommerce)."""
        self.shop.clock_offset += timedelta(seconds=seconds)

    # -- shop shortcuts ---------------------------------------------------------------------
    def seed_product(self, sku: str, quantity: int | None = 0, price: str = "10.00",
                     **fields) -> dict:
        data = {"name": fields.pop("name", f"Product {sku}"), "sku": sku,
                "regular_price": price, "manage_stock": quantity is not None,
                "stock_quantity": quantity, **fields}
        return self.shop.save_product(data)

    def seed_variable(self, sku: str, variations: list[tuple[str, dict, int]],
                      name: str | None = None) -> tuple[dict, list[dict]]:
        """A variable parent and its variations: [(sku, {"Size": "S"}, quantity), ...]."""
        options: dict[str, list] = {}
        for _, attrs, _ in variations:
            for key, value in attrs.items():
                options.setdefault(key, []).append(value)
        parent = self.seed_product(sku, None, "", name=name or f"Product {sku}", type="variable",
                                   attributes=[{"id": 0, "name": k, "options": v,
                                                "variation": True, "visible": True}
                                               for k, v in options.items()])
        children = [self.shop.save_product(
            {"sku": vsku, "regular_price": "10.00", "manage_stock": True, "stock_quantity": qty,
             "attributes": [{"id": 0, "name": k, "option": v} for k, v in attrs.items()]},
            parent=parent["id"]) for vsku, attrs, qty in variations]
        return self.shop.get_product(parent["id"]), children

    def product(self, sku: str) -> dict | None:
        with self.shop.lock:
            pid = self.shop.skus.get(sku)
            return self.shop.get_product(pid) if pid else None

    def place_order(self, lines, **options) -> dict:
        return self.shop.place_order(lines, **options)

    def modify_order(self, order_id: int, **data) -> dict:
        return self.shop.update_order(order_id, data)

    # -- request handling (called from handler threads) -------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match is None or fault.match in path:
                    self._faults.remove(fault)
                    return fault
        return None

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)

    def _authenticate(self, method: str, query: dict, headers) -> str | None:
        key, secret = query.get("consumer_key"), query.get("consumer_secret")
        if not (key and secret):
            auth = headers.get("Authorization", "")
            if auth.startswith("Basic "):
                try:
                    key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    key = secret = None
        if not key or not secret or key not in self.keys:
            return None  # WooCommerce treats an unknown key as a guest
        expected, permissions = self.keys[key]
        if not hmac.compare_digest(expected, secret):
            raise WooError(401, "woocommerce_rest_authentication_error",
                           "Consumer secret is invalid.")
        need = "read" if method in ("GET", "HEAD") else "write"
        if permissions not in (need, "read_write"):  # real WooCommerce answers 401 here
            raise WooError(401, "woocommerce_rest_authentication_error",
                           f"The API key provided does not have {need} permissions.")
        return key

    def _route(self, method: str, path: str, query: dict, body) -> tuple[int, object, dict]:
        for methods, pattern, handler in ROUTES:
            found = re.fullmatch(pattern, path)
            if found and method in methods:
                return handler(self, query, body, *(int(g) for g in found.groups()))
        raise WooError(404, "rest_no_route",
                       "No route was found matching the URL and request method.")

    def paginate(self, items: list, query: dict, path: str) -> tuple[int, list, dict]:
        """WP REST pagination: per_page 1..100, X-WP-Total, X-WP-TotalPages, Link."""
        try:
            per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        except ValueError:
            raise invalid_param("per_page", "per_page is not of type integer.") from None
        if not 1 <= per_page <= 100:
            raise invalid_param("per_page",
                                "per_page must be between 1 (inclusive) and 100 (inclusive)")
        if page < 1:
            raise invalid_param("page", "page must be greater than or equal to 1")
        offset = int(query["offset"]) if query.get("offset") else (page - 1) * per_page
        total, pages = len(items), -(-len(items) // per_page)
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1)):
            if 1 <= number <= pages:
                link_query = urlencode({**query, "page": number})
                links.append(f'<{self.url}{API}{path}?{link_query}>; rel="{rel}"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        chosen = items[offset:offset + per_page]
        fields = [f for f in (query.get("_fields") or "").split(",") if f]
        if fields:
            chosen = [{k: v for k, v in item.items() if k in fields} for item in chosen]
        return 200, chosen, headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a client pool reuses connections
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms ACK stalls
    emulator: WooCommerceEmulator

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    @staticmethod
    def _wait(ready_at: float) -> None:
        """Hold the answer until the request has taken the shop's latency in all.

        Each connection has its own thread, so requests in flight wait side by side. Sleeping
        only the remainder keeps this Python emulator (one process, one GIL) from adding its
        own CPU time on top of the latency a real shop's PHP workers would spend in parallel.
        """
        remaining = ready_at - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def _handle(self) -> None:
        started = time.monotonic()
        emu, method = self.emulator, self.command
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = split.path[len(API):] if split.path.startswith(API) else split.path
        body, items = None, 1
        try:
            body = json.loads(raw) if raw else {}
            if path.endswith("/batch") and isinstance(body, dict):
                items = sum(len(body.get(op) or []) for op in ("create", "update", "delete"))
        except ValueError:
            body = ValueError
        # The shop's server time per request: our own work counts towards it, as a real shop's
        # PHP does its work inside its response time (see _wait).
        ready_at = started + emu.latency + emu.item_latency * items
        fault = emu._take_fault(path)
        headers: dict = {}
        if fault and fault.kind == "reset":
            self._wait(ready_at)
            emu._record(LoggedRequest(method, path, query, items, 0))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault.kind == "status":
            status = fault.status
            data = WooError(status, "http_error", f"Injected HTTP {status}").body()
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
        else:
            try:
                if body is ValueError:
                    raise WooError(400, "rest_invalid_json", "Invalid JSON body passed.")
                if not split.path.startswith(API + "/"):
                    raise WooError(404, "rest_no_route", "No route was found matching the URL "
                                   "and request method.")
                user = emu._authenticate(method, query, self.headers)
                if user is None:
                    code, verb = (("woocommerce_rest_cannot_view", "cannot list resources")
                                  if method == "GET" else
                                  ("woocommerce_rest_cannot_edit",
                                   "are not allowed to edit this resource"))
                    raise WooError(401, code, f"Sorry, you {verb}.")
                status, data, headers = emu._route(method, path, query, body)
            except WooError as err:
                status, data = err.status, err.body()
                if status == 401:
                    headers["WWW-Authenticate"] = 'Basic realm="WooCommerce API. Use a ' \
                        'consumer key in the username field and a consumer secret in the ' \
                        'password field."'
        payload = json.dumps(data).encode()
        self._wait(ready_at)
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        length = len(payload)
        if fault and fault.kind == "malformed":
            payload = payload[:max(1, len(payload) // 2)]  # cut JSON, honest Content-Length
            length = len(payload)
        elif fault and fault.kind == "truncated":
            payload = payload[:max(1, len(payload) // 2)]  # promised more than we send
            self.close_connection = True
        emu._record(LoggedRequest(method, path, query, items, status))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(length))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up (timeout) before we answered
