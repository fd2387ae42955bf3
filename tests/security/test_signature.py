"""PONTE-HMAC-SHA256-V1: the contract's vectors, parsing, verification, and the ERP client's signing."""
import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from app.security.signature import (MalformedSignatureError, SignatureParams, canonical_query,
                                    parse_signature_params, sign, signed_text, verify)

SECRET = "pnt_sk_test_4f1c2e9a7b3d5c8e0a1b2c3d4e5f6a7b"
TS = 1700000000
VECTORS = [  # (method, path, query pairs as Flask decodes them, nonce, body, signature)
    ("POST", "/erp/v1/procedures/42/runs", [], "n-0001", b'{"skus":["A-1","B-2"]}',
     "v1=b404186a3692d419a1c0af2da8ecffc3bd1dc5cf1722a774332304f4377346de"),
    ("GET", "/erp/v1/procedures/42/trigger",
     [("source", "erp stock"), ("ponte_kid", "k_test"), ("ponte_ts", "1700000000"), ("ponte_nonce", "n-0002")],
     "n-0002", b"", "v1=a076f9f383f5dd4037ec9d984df2c7d01d22d578e2e35e331fcac31d5b17e0a6"),
]
CLIENT_PATH = Path(__file__).resolve().parents[2] / "clients" / "ponte_erp_client.py"


def _load_client():
    spec = importlib.util.spec_from_file_location("ponte_erp_client", CLIENT_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


client_mod = _load_client()


@pytest.mark.parametrize("method,path,query,nonce,body,expected", VECTORS)
def test_contract_vectors(method, path, query, nonce, body, expected):
    assert sign(SECRET, method, path, query, "k_test", TS, nonce, body) == expected
    assert client_mod.sign(SECRET, method, path, query, "k_test", TS, nonce, body) == expected
    params = SignatureParams("k_test", TS, nonce, expected)
    assert verify(SECRET, params, method, path, query, body, now=TS)


def test_signed_text_layout():
    text = signed_text("post", "/p", [], "k_test", TS, "nonce-01", b"")
    assert text.split("\n") == [
        "PONTE-HMAC-SHA256-V1", "POST", "/p", "", "k_test", "1700000000", "nonce-01",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]  # sha256 of b""
    assert not text.endswith("\n")


def test_canonical_query():
    pairs = [("b", "2"), ("a", "z"), ("a", "b c"), ("ponte_sig", "x"), ("k/x", "é&=+~")]
    expected = "a=b%20c&a=z&b=2&k%2Fx=%C3%A9%26%3D%2B~"
    assert canonical_query(pairs) == expected
    assert client_mod.canonical_query(pairs) == expected
    assert canonical_query([("ponte_ts", "1")]) == ""


def _headers(**over):
    headers = {"Ponte-Key-Id": "k_test", "Ponte-Timestamp": "1700000000", "Ponte-Nonce": "abcdEFGH_-12",
               "Ponte-Signature": "v1=" + "0a" * 32}
    headers.update(over)
    return {k: v for k, v in headers.items() if v is not None}


def test_parse_from_headers_and_from_query():
    params = parse_signature_params(_headers(), [("source", "x")])
    assert params == SignatureParams("k_test", TS, "abcdEFGH_-12", "v1=" + "0a" * 32)
    lower = {k.lower(): v for k, v in _headers().items()}  # plain dicts are not case-insensitive
    assert parse_signature_params(lower, []) == params
    query = [("ponte_kid", "k_test"), ("ponte_ts", "1700000000"), ("ponte_nonce", "abcdEFGH_-12"),
             ("ponte_sig", "v1=" + "0a" * 32), ("source", "x")]
    assert parse_signature_params({}, query) == params


@pytest.mark.parametrize("override", [
    {"Ponte-Nonce": "short"}, {"Ponte-Nonce": "x" * 65}, {"Ponte-Nonce": "has space1"},
    {"Ponte-Nonce": "bad.nonce!"}, {"Ponte-Timestamp": "17e8"}, {"Ponte-Timestamp": "-1700000000"},
    {"Ponte-Timestamp": "1700000000.5"}, {"Ponte-Timestamp": ""}, {"Ponte-Signature": "v1=" + "0A" * 32},
    {"Ponte-Signature": "0a" * 32}, {"Ponte-Signature": "v2=" + "0a" * 32}, {"Ponte-Signature": "v1=abc"},
    {"Ponte-Signature": " v1=" + "0a" * 32}, {"Ponte-Key-Id": ""}, {"Ponte-Key-Id": None},
    {"Ponte-Signature": None},
])
def test_malformed_params(override):
    with pytest.raises(MalformedSignatureError):
        parse_signature_params(_headers(**override), [])


def test_malformed_sources():
    with pytest.raises(MalformedSignatureError):  # nothing at all
        parse_signature_params({}, [("source", "x")])
    with pytest.raises(MalformedSignatureError):  # half in headers, half in the query
        parse_signature_params(_headers(**{"Ponte-Nonce": None}), [("ponte_nonce", "abcdEFGH")])
    query = [("ponte_kid", "k"), ("ponte_ts", "1"), ("ponte_nonce", "abcdEFGH"), ("ponte_nonce", "abcdEFGX"),
             ("ponte_sig", "v1=" + "0a" * 32)]
    with pytest.raises(MalformedSignatureError):  # repeated parameter
        parse_signature_params({}, query)


def _signed(nonce="nonce-0001", **kw):
    req = dict(method="POST", path="/erp/v1/nodes/nd_1/products", query_pairs=[("mode", "full")],
               body=b"sku;quantity\nA;1\n")
    req.update(kw)
    sig = sign(SECRET, req["method"], req["path"], req["query_pairs"], "k_test", TS, nonce, req["body"])
    return SignatureParams("k_test", TS, nonce, sig), req


@pytest.mark.parametrize("delta,ok", [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_clock_skew(delta, ok):
    params, req = _signed()
    assert verify(SECRET, params, now=TS + delta, **req) is ok


@pytest.mark.parametrize("tamper", [
    {"body": b"sku;quantity\nA;9\n"}, {"path": "/erp/v1/nodes/nd_2/products"},
    {"query_pairs": [("mode", "quantity")]}, {"query_pairs": [("mode", "full"), ("x", "1")]},
    {"method": "PUT"},
])
def test_tampered_request_fails(tamper):
    params, req = _signed()
    assert verify(SECRET, params, now=TS, **req)
    assert not verify(SECRET, params, now=TS, **{**req, **tamper})
    assert not verify("another-secret", params, now=TS, **req)


# --- the ERP client against a loopback stand-in for the hub that checks every signature -------------

class _Hub(BaseHTTPRequestHandler):
    orders: dict = {}
    seen: list = []

    def log_message(self, *args):
        pass

    def _answer(self, status, doc):
        payload = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self):
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qsl(url.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = parse_signature_params(self.headers, query)
        if not verify(SECRET, params, self.command, path, query, body, now=__import__("time").time()):
            return self._answer(401, {"error": "unauthorized"})
        self.seen.append((self.command, path, dict(query), body, params.nonce))
        if path.endswith("/orders"):
            batch = sorted(self.orders)[: int(dict(query)["limit"])]
            return self._answer(200, {"orders": [self.orders[i] for i in batch]})
        if path.endswith("/orders/ack"):
            for order_id in json.loads(body)["order_ids"]:
                self.orders.pop(order_id, None)
            return self._answer(200, {"acknowledged": True})
        if path.endswith("/products"):
            return self._answer(422, {"errors": [{"line": 2, "message": "bad quantity"}]})
        return self._answer(202, {"run_id": 7, "status_url": "/erp/v1/runs/7", "coalesced": False})

    do_GET = do_POST = _handle


@pytest.fixture
def hub(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    _Hub.orders = {f"o{i:02d}": {"order_id": f"o{i:02d}", "number": str(1000 + i)} for i in range(5)}
    _Hub.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    for name, value in (("PONTE_URL", url), ("PONTE_KEY_ID", "k_test"), ("PONTE_SECRET", SECRET)):
        monkeypatch.setenv(name, value)
    yield url
    server.shutdown()
    server.server_close()


def test_client_requests_are_accepted_by_the_hub_verifier(hub):
    client = client_mod.PonteClient(hub, "k_test", SECRET)
    assert client.start_procedure("pr 42/x")["run_id"] == 7  # odd ids are encoded and still verify
    assert client.run_status("7")["status_url"] == "/erp/v1/runs/7"
    assert [m for m, *_ in _Hub.seen] == ["POST", "GET"]
    assert _Hub.seen[0][1] == "/erp/v1/procedures/pr 42/x/runs"
    bad = client_mod.PonteClient(hub, "k_test", "wrong-secret")
    with pytest.raises(client_mod.PonteError) as err:
        bad.run_status("7")
    assert err.value.status == 401


def test_cli_pull_orders_with_ack_drains_the_feed(hub, tmp_path, capsys):
    assert client_mod.main(["pull-orders", "--node", "nd_1", "--out", str(tmp_path), "--limit", "2",
                            "--ack"]) == 0
    files = sorted(tmp_path.glob("orders-*.json"))
    got = [o["order_id"] for f in files for o in json.loads(f.read_text())["orders"]]
    assert len(files) == 3 and got == ["o00", "o01", "o02", "o03", "o04"]
    assert _Hub.orders == {} and not list(tmp_path.glob("*.part"))
    nonces = [n for *_, n in _Hub.seen]
    assert len(set(nonces)) == len(nonces) == 7  # 4 fetches + 3 acks, each with a fresh nonce
    assert json.loads(capsys.readouterr().out)["files"] == [str(f) for f in files]


def test_cli_pull_orders_without_ack_writes_one_batch(hub, tmp_path):
    assert client_mod.main(["pull-orders", "--node", "nd_1", "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("orders-*.json"))) == 1 and len(_Hub.orders) == 5


def test_cli_error_prints_body_and_exits_1(hub, tmp_path, capsys):
    products = tmp_path / "stock.csv"
    products.write_bytes(b"sku;quantity\nA;x\n")
    assert client_mod.main(["push-products", str(products), "--node", "nd_1", "--mode", "quantity"]) == 1
    assert "bad quantity" in capsys.readouterr().err
    method, path, query, body, _ = _Hub.seen[-1]
    assert (method, path, query, body) == ("POST", "/erp/v1/nodes/nd_1/products", {"mode": "quantity"},
                                           b"sku;quantity\nA;x\n")
