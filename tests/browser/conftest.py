"""A live hub for browser tests: werkzeug server + a looping RQ burst worker, in threads."""
from __future__ import annotations

import os
import threading
import time

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _need_browser():
    reason = None
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -r requirements-dev.txt)"
    if reason:
        if os.environ.get("PONTE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test required (PONTE_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(f"browser test skipped: {reason}")


@pytest.fixture()
def live_server(ctx):
    """The testing app served on 127.0.0.1 (same database and Redis as the fixtures)."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture()
def live_worker(ctx):
    """A real RQ worker: SimpleWorker bursts every 0.2 s until the test ends."""
    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty

    from app.queues import get_queue, redis_connection

    class ThreadWorker(SimpleWorker):
        """Signals belong to the main thread: no handlers, and a timer instead of SIGALRM."""
        death_penalty_class = TimerDeathPenalty

        def _install_signal_handlers(self):
            pass
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop():
        with ctx.app_context():
            conn = redis_connection()
            queues = [get_queue(q) for q in ("sync", "default", "periodic")]
            while not stop.is_set():
                try:
                    ThreadWorker(queues, connection=conn).work(burst=True, with_scheduler=False)
                except BaseException as exc:  # keep looping; the test reports it
                    errors.append(exc)
                stop.wait(0.2)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield errors
    stop.set()
    thread.join(30)


@pytest.fixture()
def browser_page():
    _need_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        external: list[str] = []

        def only_local(route):
            url = route.request.url
            if url.startswith(("http://127.0.0.1:", "data:", "blob:", "about:")):
                route.continue_()
            else:
                external.append(url)
                route.abort()
        context.route("**/*", only_local)
        page.external_requests = external
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture()
def shots():
    folder = os.path.join(os.path.dirname(__file__), "..", "..", "artifacts", "screenshots")
    folder = os.path.abspath(folder)
    os.makedirs(folder, exist_ok=True)

    def take(page, name: str) -> str:
        path = os.path.join(folder, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path
    take.folder = folder
    return take


def wait_for(predicate, timeout: float = 30.0, every: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False
