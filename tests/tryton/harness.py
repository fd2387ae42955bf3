"""A real trytond for tests: pinned venv, seeded SQLite template, loopback server.

The venv (.cache/tryton-venv) and the seeded template database (.cache/tryton-db/<hash>) are
built once and reused while the pins and seed.py are unchanged; each TrytonServer copies the
template into its own temp dir, so restore() is a file copy and a restart, not a rebuild.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PONTE_TRYTON_CACHE", ROOT / ".cache"))
VENV = CACHE / "tryton-venv"
SEED = Path(__file__).with_name("seed.py")
DATABASE = "ponte"
LOGIN, PASSWORD = "admin", "admin-secret-42"
MODULES = ["company", "party", "product", "stock", "sale", "currency", "country"]

# The whole resolved set, so a rebuild tomorrow gives the same server as today.
PINS = [
    "trytond==8.2.1", "trytond-account==8.2.1", "trytond-account-invoice==8.2.0",
    "trytond-account-invoice-stock==8.2.0", "trytond-account-product==8.2.0",
    "trytond-company==8.2.0", "trytond-country==8.2.0", "trytond-currency==8.2.0",
    "trytond-party==8.2.0", "trytond-product==8.2.0", "trytond-sale==8.2.0",
    "trytond-stock==8.2.1",
    "argon2-cffi==25.1.0", "argon2-cffi-bindings==26.2.0", "cffi==2.1.1",
    "defusedxml==0.7.1", "Genshi==0.7.12", "lxml==6.1.3", "MarkupSafe==3.0.4",
    "polib==1.2.0", "puremagic==1.30", "pwdlib==0.3.1", "pycparser==3.12",
    "python-dateutil==4.0.0", "python-sql==1.8.1", "python-stdnum==2.2", "relatorio==1.0.0",
    "simpleeval==1.0.8", "tzdata==2026.6", "Werkzeug==3.1.9",
]

TIMINGS: dict[str, float] = {}  # measured seconds, printed by the tests' session summary


def _log(message: str) -> None:
    print(f"[tryton-harness] {message}", file=sys.stderr, flush=True)


def _timed(name: str, started: float) -> None:
    TIMINGS[name] = round(time.monotonic() - started, 2)
    _log(f"{name}: {TIMINGS[name]}s")


def ensure_venv() -> Path:
    """The Tryton venv, (re)built when missing or when its pins differ."""
    marker = VENV / "ponte-pins.txt"
    wanted = "\n".join(PINS) + "\n"
    if marker.exists() and marker.read_text() == wanted and (VENV / "bin" / "trytond").exists():
        return VENV
    started = time.monotonic()
    shutil.rmtree(VENV, ignore_errors=True)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    # The base interpreter, not the hub's venv: the two sets of packages must not mix.
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    result = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q",
                             "--disable-pip-version-check", *PINS],
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"installing Tryton failed:\n{result.stdout}\n{result.stderr}")
    marker.write_text(wanted)
    _timed("venv_install", started)
    return VENV


def _write_conf(directory: Path, port: int) -> Path:
    conf = directory / "trytond.conf"
    conf.write_text(
        "[database]\nuri = sqlite://\n"
        f"path = {directory / 'db'}\n"
        "[web]\n"
        f"listen = 127.0.0.1:{port}\n"
    )
    return conf


def ensure_template() -> tuple[Path, dict]:
    """The seeded database file and the facts seed.py printed; built once per pins+seed."""
    venv = ensure_venv()
    key = hashlib.sha256(("\n".join(PINS) + PASSWORD + " ".join(MODULES)).encode()
                         + SEED.read_bytes()).hexdigest()[:16]
    target = CACHE / "tryton-db" / key
    db_file, facts_file = target / f"{DATABASE}.sqlite", target / "facts.json"
    if db_file.exists() and facts_file.exists():
        return db_file, json.loads(facts_file.read_text())
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="tryton-build-", dir=CACHE))
    try:
        (work / "db").mkdir()
        (work / "db" / f"{DATABASE}.sqlite").touch()  # trytond-admin wants the file to exist
        conf = _write_conf(work, 0)
        passfile = work / "pass"
        passfile.write_text(PASSWORD)
        env = {**os.environ, "TRYTONPASSFILE": str(passfile)}
        result = subprocess.run(
            [str(venv / "bin" / "trytond-admin"), "-c", str(conf), "-d", DATABASE, "--all",
             "-u", *MODULES, "--activate-dependencies", "--email", "admin@example.com"],
            env=env, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"trytond-admin failed:\n{result.stderr[-4000:]}")
        _timed("database_create", started)
        seeded = time.monotonic()
        result = subprocess.run([str(venv / "bin" / "python"), str(SEED), str(conf), DATABASE],
                                capture_output=True, text=True)
        line = [l for l in result.stdout.splitlines() if l.startswith("SEED-FACTS ")]
        if result.returncode or not line:
            raise RuntimeError(f"seeding failed:\n{result.stdout}\n{result.stderr[-4000:]}")
        _timed("seed", seeded)
        facts = json.loads(line[0].split(" ", 1)[1])
        # Fold the WAL into the main file so one file is the whole database.
        subprocess.run([str(venv / "bin" / "python"), "-c",
                        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                        "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()",
                        str(work / "db" / f"{DATABASE}.sqlite")], check=True)
        staged = work / "template"
        staged.mkdir()
        shutil.copy2(work / "db" / f"{DATABASE}.sqlite", staged / db_file.name)
        (staged / "facts.json").write_text(json.dumps(facts, indent=1))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            staged.rename(target)  # atomic: a concurrent builder either wins or loses whole
        except OSError:
            if not db_file.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _timed("template_total", started)
    return db_file, json.loads(facts_file.read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _encode(value):
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc) if value.tzinfo else value
        return {"__class__": "datetime", "year": value.year, "month": value.month,
                "day": value.day, "hour": value.hour, "minute": value.minute,
                "second": value.second, "microsecond": value.microsecond}
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(type(value))


def _decode(obj):
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        return datetime(obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"],
                        obj["second"], obj["microsecond"], tzinfo=timezone.utc)
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    return obj


def _die_with_parent() -> None:
    # If pytest is killed outright (no atexit), Linux sends the server SIGTERM too, so no
    # trytond is left holding a port; elsewhere this is a no-op.
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _flatten(row: dict) -> dict:
    """Tryton returns dotted fields nested ({"party.": {"rec_name": ...}}): flatten them."""
    flat = {}
    for key, value in row.items():
        if key.endswith(".") and isinstance(value, dict):
            flat.update({key + sub: v for sub, v in value.items() if sub != "id"})
        elif key.endswith(".") and value is None:
            continue
        else:
            flat[key] = value
    return flat


class TrytonServer:
    """One trytond subprocess on a loopback port over a private copy of the template.

    Its own tiny RPC caller (rpc/model) is deliberately independent of the adapter's client,
    so the tests do not check the client with itself.
    """

    def __init__(self):
        self.template, self.facts = ensure_template()
        self.dir = Path(tempfile.mkdtemp(prefix="tryton-server-"))
        (self.dir / "db").mkdir()
        self.port = free_port()
        self.conf = _write_conf(self.dir, self.port)
        self.database, self.login, self.password = DATABASE, LOGIN, PASSWORD
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._session: str | None = None
        self._context: dict | None = None
        self._copy_template()
        atexit.register(self.close)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def db_file(self) -> Path:
        return self.dir / "db" / f"{DATABASE}.sqlite"

    def _copy_template(self) -> None:
        # Stale -wal/-shm files would replay old rows over the fresh copy.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(self.db_file) + suffix).unlink(missing_ok=True)
        shutil.copyfile(self.template, self.db_file)

    def start(self, timeout: float = 30.0) -> "TrytonServer":
        if self.process and self.process.poll() is None:
            return self
        started = time.monotonic()
        log = open(self.dir / "server.log", "ab")
        # -d preloads the database: without it trytond 8.2 refuses every login.
        self.process = subprocess.Popen(
            [str(VENV / "bin" / "trytond"), "-c", str(self.conf), "-d", DATABASE],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"trytond exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                answer = requests.post(f"{self.url}/rpc/", timeout=1,
                                       json={"id": 0, "method": "common.server.version",
                                             "params": []})
                if answer.ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - started > timeout:
                self.stop()
                raise RuntimeError(f"trytond did not answer in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)
        TIMINGS.setdefault("server_start", round(time.monotonic() - started, 2))
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        self._session = None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: only our server
        except ProcessLookupError:
            return
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def restore(self) -> None:
        """Back to the freshly seeded database: stop, copy the template, start."""
        started = time.monotonic()
        self.stop()
        self._copy_template()
        self._context = None
        self.start()
        TIMINGS["restore"] = round(time.monotonic() - started, 2)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join((self.dir / "server.log").read_text(errors="replace")
                             .splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- admin RPC for the tests ------------------------------------------------------------

    def settings(self, **overrides) -> dict:
        return {"url": self.url, "database": DATABASE, "warehouse": self.facts["warehouse_code"],
                **overrides}

    def credentials(self, **overrides) -> dict:
        return {"login": LOGIN, "password": PASSWORD, **overrides}

    def rpc(self, method: str, *params):
        if self._session is None and method != "common.db.login":
            user_id, key, *_ = self.rpc("common.db.login", LOGIN, {"password": PASSWORD}, "en")
            self._session = "Session " + base64.b64encode(
                f"{LOGIN}:{user_id}:{key}".encode()).decode()
        headers = {"Content-Type": "application/json"}
        if self._session:
            headers["Authorization"] = self._session
        response = requests.post(
            f"{self.url}/{DATABASE}/rpc/", headers=headers, timeout=30,
            data=json.dumps({"id": 1, "method": method, "params": list(params)},
                            default=_encode))
        response.raise_for_status()
        payload = json.loads(response.text, object_hook=_decode)
        if payload.get("error"):
            raise RuntimeError(f"{method}: {payload['error']}")
        return payload["result"]

    def model(self, model: str, method: str, *params, context: dict | None = None):
        if self._context is None:
            self._context = self.rpc("model.res.user.get_preferences", True, {})
        return self.rpc(f"model.{model}.{method}", *params, {**self._context, **(context or {})})

    def product_id(self, sku: str) -> int:
        ids = self.model("product.product", "search", [["code", "=", sku]], 0, None, None)
        assert len(ids) == 1, f"no single product {sku}: {ids}"
        return ids[0]

    def quantities(self, skus=None) -> dict[str, tuple[float, float]]:
        """{sku: (quantity on hand, forecast quantity)} in the seeded warehouse."""
        domain = [["code", "in", list(skus)]] if skus else [["code", "!=", None]]
        rows = self.model("product.product", "search_read", domain, 0, None, None,
                          ["code", "quantity", "forecast_quantity"],
                          context={"locations": [self.facts["warehouse_id"]]})
        return {r["code"]: (r["quantity"], r["forecast_quantity"]) for r in rows}

    def set_list_price(self, sku: str, price) -> None:
        template, = self.model("product.product", "read", [self.product_id(sku)], ["template"])
        self.model("product.template", "write", [template["template"]],
                   {"list_price": Decimal(str(price))})

    def add_stock(self, sku: str, quantity: float) -> int:
        """A done move from lost-and-found into the warehouse storage (negative: out)."""
        lost, = self.model("stock.location", "search", [["type", "=", "lost_found"]], 0, 1,
                           None)
        storage = self.facts["storage_id"]
        product = self.product_id(sku)
        unit, = self.model("product.product", "read", [product], ["default_uom"])
        source, dest = (lost, storage) if quantity > 0 else (storage, lost)
        move_id, = self.model("stock.move", "create", [{
            "product": product, "unit": unit["default_uom"], "quantity": abs(float(quantity)),
            "from_location": source, "to_location": dest,
            "company": self.facts["company_id"], "effective_date": date.today()}])
        self.model("stock.move", "do", [move_id])
        return move_id

    def sales(self, domain=None) -> list[dict]:
        """Sales with their lines read in, newest last."""
        fields = ["id", "number", "reference", "description", "state", "party",
                  "party.rec_name", "invoice_address", "shipment_address", "untaxed_amount",
                  "total_amount", "currency", "warehouse", "lines", "sale_date"]
        sales = [_flatten(s) for s in self.model("sale.sale", "search_read", domain or [], 0,
                                                  None, [["id", "ASC"]], fields)]
        for sale in sales:
            sale["lines"] = [_flatten(line) for line in self.model(
                "sale.line", "read", sale["lines"],
                ["type", "product", "product.code", "quantity", "unit_price", "amount",
                 "description"])]
        return sales


if __name__ == "__main__":  # manual check: build everything and time it
    began = time.monotonic()
    with TrytonServer() as server:
        _timed("first_start_total", began)
        print(server.url, server.quantities())
        server.restore()
    print(json.dumps(TIMINGS))
