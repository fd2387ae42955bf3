"""HTTP client for the WooCommerce REST API v3: auth, timeouts, retries, pages, batches, fan-out.

It knows transport and nothing about products or orders. Transient trouble (network, timeouts,
429, 5xx, unreadable bodies) is retried here with capped exponential back-off, so callers see a
result or a final typed error from errors.py.
"""
from __future__ import annotations

import base64
import email.utils
import json as jsonlib
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from ..errors import AuthError, ConfigurationError, PlatformError, RetryLaterError

TRANSIENT = (requests.ConnectionError, requests.Timeout,
             requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
BATCH_LIMIT = 100  # WooCommerce's default woocommerce_rest_batch_items_limit
JSON_BODY = {"Content-Type": "application/json"}


class WooCommerceError(PlatformError):
    """A 4xx WooCommerce refused for a reason retrying will not fix."""

    def __init__(self, message: str, status: int, code: str | None = None,
                 data: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.data = status, code, data or {}


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def api_base(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"WooCommerce URL must start with https:// (got {url!r})")
    return url if url.endswith("/wp-json/wc/v3") else url + "/wp-json/wc/v3"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)  # HTTP-date form
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class WooCommerceClient:
    """Thread-safe: each request in flight borrows its own requests.Session from a small pool."""

    def __init__(self, url: str, consumer_key: str, consumer_secret: str, *,
                 timeout: float = 30.0, retries: int = 4, backoff: float = 0.5,
                 backoff_cap: float = 30.0, max_retry_after: float = 120.0,
                 query_string_auth: bool = False, sleep=time.sleep):
        self.base = api_base(url)
        self.store_url = self.base[: -len("/wp-json/wc/v3")]
        if not consumer_key or not consumer_secret:
            raise ConfigurationError("WooCommerce needs a consumer key and a consumer secret")
        self.auth = (consumer_key, consumer_secret)
        self.timeout, self.retries = timeout, retries
        self.backoff, self.backoff_cap, self.max_retry_after = backoff, backoff_cap, max_retry_after
        self.query_string_auth, self.sleep = query_string_auth, sleep
        self._idle: list[requests.Session] = []  # reused across calls and worker threads
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _acquire(self) -> requests.Session:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        session = requests.Session()  # one per request in flight, each keeps its connection
        session.headers.update({"Accept": "application/json",
                                "User-Agent": "Ponte/1 (+woocommerce adapter)"})
        if not self.query_string_auth:
            token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            session.headers["Authorization"] = f"Basic {token}"  # built once, not per request
        # The environment's proxies and CA bundle are read once here: with trust_env on,
        # requests re-reads them (and ~/.netrc) on every call, a third of its CPU per request.
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(self.base))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
        with self._lock:
            self._sessions.append(session)
        return session

    def _release(self, session: requests.Session) -> None:
        with self._lock:
            self._idle.append(session)

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
            self._idle.clear()

    # -- one call, with retries ---------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict | None = None,
                json: object = None) -> tuple[object, dict]:
        """(decoded JSON, response headers); raises AuthError, WooCommerceError, RetryLaterError."""
        params = dict(params or {})
        if self.query_string_auth:
            params.update(consumer_key=self.auth[0], consumer_secret=self.auth[1])
        body = None if json is None else jsonlib.dumps(json, separators=(",", ":")).encode()
        session = self._acquire()
        try:
            return self._attempts(session, method, path, params, body)
        finally:
            self._release(session)

    def _attempts(self, session, method: str, path: str, params: dict, body: bytes | None):
        attempt = 0
        headers = JSON_BODY if body is not None else None
        while True:
            try:
                try:  # the body is encoded once, not again on every retry
                    response = session.request(method, self.base + path, params=params,
                                               data=body, headers=headers,
                                               timeout=self.timeout)
                except TRANSIENT as exc:
                    raise _Retry(f"{type(exc).__name__}: {exc}") from None
                return self._read(method, path, response), response.headers
            except _Retry as retry:
                attempt += 1
                wait = retry.retry_after
                if attempt > self.retries or (wait is not None and wait > self.max_retry_after):
                    raise RetryLaterError(
                        f"WooCommerce at {self.store_url}: {method} {path} failed "
                        f"{attempt} time(s), last: {retry.reason}", retry.retry_after) from None
                if wait is None:  # full-jitter exponential back-off, capped
                    wait = random.uniform(0.5, 1.0) * min(self.backoff_cap,
                                                          self.backoff * 2 ** (attempt - 1))
                self.sleep(wait)

    def _read(self, method: str, path: str, response: requests.Response):
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        try:
            data = response.json() if response.content else None
        except ValueError:
            if 200 <= status < 300 and response.text.lstrip().startswith("<"):
                raise ConfigurationError(
                    f"{self.store_url} answered HTML, not the WooCommerce REST API: check the "
                    "shop URL and that WordPress permalinks are not 'Plain'") from None
            if 200 <= status < 300:
                raise _Retry(f"HTTP {status} with a malformed JSON body") from None
            data = None
        if 200 <= status < 300:
            return data
        body = data if isinstance(data, dict) else {}
        code = body.get("code")
        message = body.get("message") or response.reason or f"HTTP {status}"
        if status in (401, 403):
            raise AuthError(
                f"WooCommerce at {self.store_url} refused the API key ({status} {code or ''}: "
                f"{message}). Check the consumer key and secret under WooCommerce > Settings > "
                "Advanced > REST API, that the key has Read/Write permission, and that the web "
                "server or a firewall does not strip the Authorization header or block the API "
                "(if it does, turn on query-string authentication).")
        if status == 404 and code == "rest_no_route":
            message += f" (is {self.store_url} a WooCommerce shop with the REST API enabled?)"
        raise WooCommerceError(f"WooCommerce {status} {code or ''}: {message}".replace("  ", " "),
                               status, code, body.get("data"))

    # -- helpers ------------------------------------------------------------------------------
    def get(self, path: str, **params):
        return self.request("GET", path, params=params)[0]

    def post(self, path: str, json: object):
        return self.request("POST", path, json=json)[0]

    def put(self, path: str, json: object):
        return self.request("PUT", path, json=json)[0]

    def pages(self, path: str, params: dict | None = None, per_page: int = 100):
        """Yield (items, page, total_pages) for every page, following X-WP-TotalPages."""
        page = 1
        while True:
            items, headers = self.request("GET", path, params={**(params or {}),
                                                               "per_page": per_page,
                                                               "page": page})
            items = items or []
            total = headers.get("X-WP-TotalPages")
            total_pages = int(total) if total and total.isdigit() else \
                (page + 1 if len(items) >= per_page else page)
            yield items, page, total_pages
            if page >= total_pages or not items:
                return
            page += 1

    def all(self, path: str, params: dict | None = None) -> list:
        return [item for items, _, _ in self.pages(path, params) for item in items]

    def batch(self, path: str, op: str, items: list[dict]) -> list[dict]:
        """POST one `op` ("create"/"update") list to a /batch route; answers in request order.

        Splits itself if the shop runs a lower batch limit than 100 (413 entity too large).
        """
        if not items:
            return []
        try:
            answer = self.post(path, {op: items}) or {}
        except WooCommerceError as exc:
            if exc.status != 413 or len(items) == 1:
                raise
            half = len(items) // 2
            return self.batch(path, op, items[:half]) + self.batch(path, op, items[half:])
        results = answer.get(op) or []
        if len(results) != len(items):
            raise RetryLaterError(f"WooCommerce at {self.store_url}: {path} answered "
                                  f"{len(results)} of {len(items)} items")
        return results


def fan_out(fn, jobs: list, concurrency: int) -> list:
    """fn over jobs with up to `concurrency` requests in flight; results in job order.

    On a final PlatformError, jobs not started are cancelled, and the results of the ones that
    finished are attached to the exception as `finished` before it propagates.
    """
    if len(jobs) <= 1 or concurrency <= 1:
        done: list = []
        try:
            for job in jobs:
                done.append(fn(job))
        except PlatformError as exc:
            exc.finished = done
            raise
        return done
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(jobs)))
    futures = [pool.submit(fn, job) for job in jobs]
    try:
        return [future.result() for future in futures]
    except PlatformError as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        exc.finished = [f.result() for f in futures
                               if f.done() and not f.cancelled() and f.exception() is None]
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
