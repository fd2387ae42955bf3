"""Products and orders lists: prefix search and keyset pages (no OFFSET)."""
from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.ids import public_id
from app.models import Order, Product, utcnow
from app.services.listings import orders_page, products_page
from tests import builders as b


def test_products_keyset_pages_and_prefix_search(client, ctx):
    acc = b.account()
    b.user(acc, "owner@example.com")
    db.session.add_all([Product(account_id=acc, sku=f"SKU-{i:04d}", name=f"Item {i % 7} {i}")
                        for i in range(120)] + [Product(account_id=acc, sku="SKU_X", name="x")])
    db.session.commit()
    seen, cursor = [], None
    while True:
        rows, cursor = products_page(acc, "SKU-", after=cursor)
        seen += [p.sku for p in rows]
        if cursor is None:
            break
    assert seen == [f"SKU-{i:04d}" for i in range(120)]  # "_" is not a wildcard
    rows, cursor = products_page(acc, "Item 3", field="name", size=5)
    assert len(rows) == 5 and all(p.name.startswith("Item 3") for p in rows)
    more, _ = products_page(acc, "Item 3", field="name", after=cursor, size=5)
    assert not {p.id for p in rows} & {p.id for p in more}
    b.login(client, "owner@example.com")
    html = client.get("/products?q=SKU-01").get_data(as_text=True)
    assert "SKU-0100" in html and "SKU-0099" not in html
    nxt = re.search(r'href="(/products\?[^"]*after=[^"]+)"', client.get("/products").get_data(
        as_text=True)).group(1).replace("&amp;", "&")
    assert "SKU-0050" in client.get(nxt).get_data(as_text=True)


def test_orders_newest_first_and_by_number(ctx):
    acc = b.account()
    shop = b.node(acc, "sandbox", "Shop")
    now = utcnow()
    db.session.add_all([Order(account_id=acc, public_id=public_id("or"), source_node_id=shop.id,
                              external_id=str(i), number=f"SB-{i:05d}", status="paid",
                              placed_at=now - timedelta(minutes=i)) for i in range(7)])
    db.session.commit()
    first, cursor = orders_page(acc, size=3)
    second, _ = orders_page(acc, after=cursor, size=3)
    assert [o.number for o in first + second] == [f"SB-{i:05d}" for i in range(6)]
    found, _ = orders_page(acc, "SB-0000")
    assert len(found) == 7
