#!/usr/bin/env python3
"""Ponte ERP client: the reference client of Ponte's signed ERP contract (/erp/v1).

Push a product file, start a procedure, pull new orders into a folder and acknowledge them, or
read a run's status. Python 3.8+ standard library only: copy this single file next to the ERP and
run it from a scheduled task. Configuration: flags, or PONTE_URL, PONTE_KEY_ID and PONTE_SECRET.
"""
import argparse
import csv
import datetime
import hashlib
import hmac
import io
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SCHEME = "PONTE-HMAC-SHA256-V1"
CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json"}
ID_FIELDS = ("order_id", "id")  # the feed's name for the hub's stable order id


def _pct(text):
    return urllib.parse.quote(str(text), safe="-_.~")  # RFC 3986 unreserved kept, space -> %20


def canonical_query(pairs):
    """Query pairs (decoded) -> the signed query line: ponte_* dropped, encoded, sorted."""
    encoded = sorted((_pct(k), _pct(v)) for k, v in pairs if not str(k).startswith("ponte_"))
    return "&".join("%s=%s" % kv for kv in encoded)


def sign(secret, method, path, query_pairs, key_id, timestamp, nonce, body=b""):
    """Return "v1=<hex>"; kept byte-for-byte in step with app/security/signature.py."""
    text = "\n".join([SCHEME, method.upper(), path, canonical_query(query_pairs), key_id,
                      str(timestamp), nonce, hashlib.sha256(body or b"").hexdigest()])
    return "v1=" + hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


class PonteError(Exception):
    """The hub answered with a non-2xx status; body is its answer, verbatim."""

    def __init__(self, status, body):
        super().__init__("HTTP %s" % status)
        self.status = status
        self.body = body


class PonteClient:
    def __init__(self, base_url, key_id, secret, timeout=60):
        self.base_url = base_url.rstrip("/")
        # A hub served under a prefix (https://host/ponte) sees the full path: sign that.
        self.prefix = urllib.parse.urlsplit(self.base_url).path
        self.key_id, self.secret, self.timeout = key_id, secret, timeout

    def request(self, method, path, query=(), body=b"", content_type=None):
        """Send one signed request; path is percent-encoded, query a list of (name, value)."""
        query = list(query)
        timestamp, nonce = int(time.time()), secrets.token_urlsafe(16)  # fresh nonce every call
        headers = {
            "Ponte-Key-Id": self.key_id,
            "Ponte-Timestamp": str(timestamp),
            "Ponte-Nonce": nonce,
            # The hub signs the path as it sees it, percent-decoded (like the query pairs).
            "Ponte-Signature": sign(self.secret, method, urllib.parse.unquote(self.prefix + path),
                                    query, self.key_id, timestamp, nonce, body),
            "Accept": "application/json, text/csv",
            "User-Agent": "ponte-erp-client/1",
        }
        if content_type:
            headers["Content-Type"] = content_type
        url = self.base_url + path
        if query:
            url += "?" + "&".join("%s=%s" % (_pct(k), _pct(v)) for k, v in query)
        req = urllib.request.Request(url, data=None if method == "GET" else body,
                                     headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload, ctype = resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise PonteError(exc.code, exc.read().decode("utf-8", "replace")) from None
        if "json" in ctype:
            return json.loads(payload.decode("utf-8"))
        return payload.decode("utf-8")

    def push_products(self, node_id, data, content_type, mode="full"):
        return self.request("POST", "/erp/v1/nodes/%s/products" % _pct(node_id), [("mode", mode)],
                            data, content_type)

    def start_procedure(self, procedure_id):
        return self.request("POST", "/erp/v1/procedures/%s/runs" % _pct(procedure_id))

    def fetch_orders(self, node_id, limit=100, fmt="json"):
        return self.request("GET", "/erp/v1/nodes/%s/orders" % _pct(node_id),
                            [("limit", str(limit)), ("format", fmt)])

    def ack_orders(self, node_id, order_ids, erp_refs=None):
        body = json.dumps({"order_ids": list(order_ids), "erp_refs": erp_refs or {}}).encode("utf-8")
        return self.request("POST", "/erp/v1/nodes/%s/orders/ack" % _pct(node_id), (), body,
                            "application/json")

    def run_status(self, run_id):
        return self.request("GET", "/erp/v1/runs/%s" % _pct(run_id))


def order_ids(feed, fmt):
    """The hub order ids in one feed batch, in feed order, without repeats."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(feed)))
    else:
        rows = feed.get("orders", []) if isinstance(feed, dict) else feed
    ids = []
    for row in rows:
        value = next((row.get(k) for k in ID_FIELDS if row.get(k) not in (None, "")), None)
        if value is None:
            raise RuntimeError("an order in the feed has no %s field" % " or ".join(ID_FIELDS))
        if str(value) not in ids:
            ids.append(str(value))
    return ids


def _write_batch(out_dir, feed, fmt, number):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = os.path.join(out_dir, "orders-%s-%03d.%s" % (stamp, number, fmt))
    text = feed if fmt == "csv" else json.dumps(feed, indent=2, ensure_ascii=False)
    # Write then rename, so an ERP watching the folder never reads a half-written file.
    with open(path + ".part", "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(path + ".part", path)
    return path


def pull_orders(client, node_id, out_dir, fmt="json", ack=False, limit=100):
    """Save each batch of new orders to out_dir, acknowledging it only once it is on disk."""
    os.makedirs(out_dir, exist_ok=True)
    written, acked = [], set()
    while True:
        feed = client.fetch_orders(node_id, limit, fmt)
        ids = order_ids(feed, fmt)
        if not ids:
            return written
        if acked.intersection(ids):  # guard against looping forever on a hub that ignores acks
            raise RuntimeError("the hub offered acknowledged orders again: stopping")
        written.append(_write_batch(out_dir, feed, fmt, len(written) + 1))
        if not ack:
            return written  # unacknowledged orders come back on the next call: one batch only
        client.ack_orders(node_id, ids)
        acked.update(ids)


def _parser():
    common = argparse.ArgumentParser(add_help=False)  # accepted before or after the command
    common.add_argument("--url", default=argparse.SUPPRESS, help="hub URL (PONTE_URL)")
    common.add_argument("--key-id", default=argparse.SUPPRESS, help="key id (PONTE_KEY_ID)")
    common.add_argument("--secret", default=argparse.SUPPRESS,
                        help="secret (PONTE_SECRET; prefer the variable: flags show in process lists)")
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS, help="seconds (60)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)
    push = sub.add_parser("push-products", parents=[common], help="upload a .csv or .json product file")
    push.add_argument("file")
    push.add_argument("--node", required=True)
    push.add_argument("--mode", choices=("full", "quantity"), default="full")
    start = sub.add_parser("start", parents=[common], help="start a procedure")
    start.add_argument("procedure_id")
    pull = sub.add_parser("pull-orders", parents=[common], help="save new orders into a folder")
    pull.add_argument("--node", required=True)
    pull.add_argument("--out", required=True, help="folder for the order files")
    pull.add_argument("--format", choices=("json", "csv"), default="json")
    pull.add_argument("--limit", type=int, default=100)
    pull.add_argument("--ack", action="store_true", help="acknowledge saved orders and fetch more")
    status = sub.add_parser("run-status", parents=[common], help="show a run's status")
    status.add_argument("run_id")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    config = {name: getattr(args, name, None) or os.environ.get(env)
              for name, env in (("url", "PONTE_URL"), ("key_id", "PONTE_KEY_ID"), ("secret", "PONTE_SECRET"))}
    missing = [name for name, value in config.items() if not value]
    if missing:
        print("missing configuration: %s (flags or PONTE_* variables)" % ", ".join(missing), file=sys.stderr)
        return 2
    client = PonteClient(config["url"], config["key_id"], config["secret"], getattr(args, "timeout", 60))
    try:
        if args.command == "push-products":
            content_type = CONTENT_TYPES.get(os.path.splitext(args.file)[1].lower())
            if content_type is None:
                print("the product file must end in .csv or .json", file=sys.stderr)
                return 2
            with open(args.file, "rb") as handle:
                result = client.push_products(args.node, handle.read(), content_type, args.mode)
        elif args.command == "start":
            result = client.start_procedure(args.procedure_id)
        elif args.command == "run-status":
            result = client.run_status(args.run_id)
        else:
            result = {"files": pull_orders(client, args.node, args.out, args.format, args.ack, args.limit)}
    except PonteError as exc:
        print("HTTP %s" % exc.status, file=sys.stderr)
        print(exc.body, file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError, RuntimeError, ValueError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    print(result if isinstance(result, str) else json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
