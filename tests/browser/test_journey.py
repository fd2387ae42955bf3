"""A merchant's first hour, in a real browser against a live hub and a real RQ worker.

Log in, add a file ERP and the sandbox store, create procedures from templates, upload
products as the ERP would (signed, with the key the portal showed once), sync, watch the
progress bar, see the products in the sandbox store, place a test order, sync again and find
the order waiting for the ERP on the dashboard. Every page loads nothing but 127.0.0.1.
"""
from __future__ import annotations

import re
import secrets
import time

import pytest

from tests import builders as b
from tests.browser.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PRODUCTS = [("MUG-ESP", "Espresso mug", "8,50", 40), ("TEE-BLU-M", "Blue T-shirt, M", "19,90", 12),
            ("BAG-CNV", "Canvas tote bag", "14,00", 3)]


def signed_post(base: str, path: str, query: list, key_id: str, secret: str, body: bytes,
                content_type: str):
    import requests

    from app.security.signature import sign
    ts, nonce = int(time.time()), secrets.token_urlsafe(12)
    headers = {"Ponte-Key-Id": key_id, "Ponte-Timestamp": str(ts), "Ponte-Nonce": nonce,
               "Ponte-Signature": sign(secret, "POST", path, query, key_id, ts, nonce, body),
               "Content-Type": content_type}
    return requests.post(base + path, params=query, data=body, headers=headers, timeout=30)


def add_node(page, base: str, platform_label: str, name: str) -> str:
    page.goto(base + "/nodes/new")
    page.get_by_role("link", name=platform_label).click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Add node").click()
    page.wait_for_url(re.compile(r"/nodes/nd_[\w-]+$"))
    return page.url.rsplit("/", 1)[1]


def new_procedure(page, base: str, template: str, name: str = "") -> str:
    page.goto(base + "/procedures/new")
    page.get_by_label("Start from").select_option(template)
    if name:
        page.get_by_label("Name (optional for templates)").fill(name)
    page.get_by_role("button", name="Create procedure").click()
    page.wait_for_url(re.compile(r"/procedures/pr_[\w-]+$"))
    return page.url.rsplit("/", 1)[1]


def sync_and_watch(page, base: str, proc_id: str, shots, shot: str) -> None:
    page.goto(f"{base}/procedures/{proc_id}")
    page.locator("main").get_by_role("button", name="Sync now").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    shots(page, shot + "-running")
    # the page polls progress.json and reloads itself once the run has finished
    page.wait_for_selector('#run[data-active="false"]', timeout=60_000)  # the reloaded page
    page.wait_for_load_state()
    assert page.locator("#run-status .badge-succeeded").is_visible()
    bars = page.locator("progress.bar")
    assert bars.count() >= 2
    for i in range(bars.count()):
        assert bars.nth(i).get_attribute("value") == "100"
    shots(page, shot + "-finished")


def test_merchant_journey(ctx, live_server, live_worker, browser_page, shots):
    base, page = live_server, browser_page
    acc = b.account("Journey Shop")
    b.user(acc, "owner@journey.example")

    page.goto(base + "/")
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("Email").fill("owner@journey.example")
    page.get_by_label("Password").fill(b.PASSWORD)
    shots(page, "01-login")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")

    erp_id = add_node(page, base, "ERP via files (push products, pull orders)", "Office ERP")
    page.get_by_role("button", name="Create a key").click()
    key_id = page.locator("#new-key-id").inner_text().strip()
    secret = page.locator("#new-key-secret").inner_text().strip()
    assert key_id.startswith("pk_") and secret.startswith("pnt_sk_")
    shots(page, "02-key-shown-once")
    page.get_by_role("link", name=re.compile("I have copied it")).click()
    assert secret not in page.content()  # shown once, never again
    shots(page, "03-erp-node")

    shop_id = add_node(page, base, "Sandbox store (inside Ponte, for rehearsals)", "Sandbox shop")
    publish_id = new_procedure(page, base, "publish_catalogue")
    every5_id = new_procedure(page, base, "every_5_minutes", "Every 5 minutes (journey)")
    shots(page, "04-procedure")

    body = b.products_csv(PRODUCTS)
    resp = signed_post(base, f"/erp/v1/nodes/{erp_id}/products", [("mode", "full")], key_id,
                       secret, body, "text/csv")
    assert resp.status_code == 202, resp.text
    assert resp.json()["rows"] == len(PRODUCTS)

    sync_and_watch(page, base, publish_id, shots, "05-publish-run")

    page.goto(f"{base}/nodes/{shop_id}")
    page.get_by_role("link", name="Open the sandbox store").click()
    catalogue = page.locator("section", has=page.get_by_role("heading", name="Catalogue"))
    for sku, *_ in PRODUCTS:
        assert catalogue.get_by_text(sku, exact=True).is_visible()
    shots(page, "06-sandbox-catalogue")

    page.locator("#lines-0-sku").fill("MUG-ESP")
    page.locator("#lines-0-quantity").fill("2")
    page.get_by_role("button", name="Place test order").click()
    page.get_by_text(re.compile(r"Test order SB-00001 placed")).wait_for()
    shots(page, "07-test-order")

    sync_and_watch(page, base, every5_id, shots, "08-five-minute-run")

    page.goto(base + "/")
    waiting = page.locator("section", has=page.get_by_role(
        "heading", name=re.compile("Orders waiting for the ERP")))
    assert waiting.get_by_role("link", name="SB-00001").is_visible()
    assert waiting.get_by_text("offered").is_visible()
    shots(page, "09-dashboard")

    for path, name in (("/products", "10-products"), ("/orders", "11-orders"),
                       ("/runs", "12-runs"), (f"/nodes/{erp_id}", "13-erp-node")):
        page.goto(base + path)
        shots(page, name)

    assert page.external_requests == [], page.external_requests
    assert not live_worker, live_worker
    assert wait_for(lambda: True)
