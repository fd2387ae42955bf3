"""WooCommerce REST v3 payloads <-> hub records (ProductRecord, ItemResult, OrderRecord).

Pure functions: no HTTP, no ids looked up here (the adapter passes category ids and existing
attributes in). Money goes out as 2-decimal strings and comes back as Decimal; timestamps come
back as aware UTC datetimes read from the *_gmt fields.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from ..records import ItemResult, OrderLineRecord, OrderRecord, ProductRecord

CENT = Decimal("0.01")
GMT_FORMAT = "%Y-%m-%dT%H:%M:%S"

# WooCommerce order status -> the hub's normalised status
STATUS_MAP = {
    "pending": "pending", "on-hold": "pending", "checkout-draft": "pending",
    "processing": "paid", "completed": "completed", "shipped": "shipped",
    "cancelled": "cancelled", "failed": "cancelled", "trash": "cancelled",
    "refunded": "refunded",
}
PAID_STATUSES = ("processing", "completed")


def money(value: Decimal | None) -> str:
    """Decimal -> "24.99"; None -> "" (WooCommerce's way of saying no price)."""
    return "" if value is None else str(Decimal(value).quantize(CENT))


def decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def format_gmt(moment: datetime) -> str:
    """Aware (or naive UTC) datetime -> WooCommerce's GMT format, whole seconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime(GMT_FORMAT)


def parse_gmt(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# -- products -----------------------------------------------------------------------------------
def _common(record: ProductRecord) -> dict:
    data: dict = {"sku": record.sku}
    if record.name is not None:
        data["name"] = record.name
    if record.description is not None:
        data["description"] = record.description
    if record.price is not None:
        data["regular_price"] = money(record.price)
        data["sale_price"] = money(record.sale_price)  # "" ends a sale that is over
    if record.weight is not None:
        data["weight"] = str(record.weight)
    if record.ean:
        data["global_unique_id"] = record.ean  # GTIN/EAN field since WooCommerce 9.2
    return data


def product_payload(record: ProductRecord, *, variable: bool, create: bool,
                    category_ids: list[int], attributes: list[dict] | None,
                    with_images: bool, status: str = "publish") -> dict:
    """A simple product or a variable parent. `attributes` is already merged (see below)."""
    data = _common(record)
    if create:
        data["status"] = status
        data["type"] = "variable" if variable else "simple"
    elif variable:
        data["type"] = "variable"  # an existing simple product gains variations
    if category_ids:
        data["categories"] = [{"id": cid} for cid in category_ids]
    if with_images and record.images:
        data["images"] = [{"src": url} for url in record.images]
    if attributes is not None:
        data["attributes"] = attributes
    if record.quantity is not None and not variable:
        data["manage_stock"] = True  # stock_quantity is ignored unless stock is managed
        data["stock_quantity"] = int(record.quantity)
    return data


def variation_payload(record: ProductRecord, *, with_images: bool) -> dict:
    data = _common(record)
    data.pop("name", None)  # a variation's name is derived from its parent and options
    if record.attributes:
        data["attributes"] = [{"name": k, "option": v} for k, v in record.attributes.items()]
    if with_images and record.images:
        data["image"] = {"src": record.images[0]}
    if record.quantity is not None:
        data["manage_stock"] = True
        data["stock_quantity"] = int(record.quantity)
    return data


def merge_attributes(existing: list[dict], own: dict[str, str],
                     variant_options: dict[str, list[str]]) -> list[dict]:
    """Parent attribute list: keep what the shop has, add new variation options, set own values.

    WooCommerce replaces the whole list on update, so dropping an existing option would hide
    variations the hub did not send this time.
    """
    merged = [dict(a, options=list(a.get("options") or [])) for a in existing]
    by_name = {a.get("name", "").lower(): a for a in merged}
    for name, options in variant_options.items():
        attr = by_name.get(name.lower())
        if attr is None:
            attr = {"name": name, "options": [], "visible": True, "variation": True}
            merged.append(attr)
            by_name[name.lower()] = attr
        attr["variation"] = True
        attr["options"] += [o for o in options if o not in attr["options"]]
    variant_names = {name.lower() for name in variant_options}
    for name, value in own.items():
        if name.lower() in variant_names:
            continue
        attr = by_name.get(name.lower())
        if attr is None:
            merged.append({"name": name, "options": [value], "visible": True, "variation": False})
        else:
            attr["options"] = [value]
    for position, attr in enumerate(merged):
        attr["position"] = position
    return merged


def variant_options(variations: list[ProductRecord]) -> dict[str, dict[str, list[str]]]:
    """parent SKU -> attribute name -> the option values its variations use, in order."""
    options: dict[str, dict[str, list[str]]] = {}
    for rec in variations:
        by_name = options.setdefault(rec.parent_sku, {})
        for name, value in rec.attributes.items():
            values = by_name.setdefault(name, [])
            if value not in values:
                values.append(value)
    return options


def lacks_options(existing: list[dict], variant_options: dict[str, list[str]]) -> bool:
    """True when a variation option is missing from the parent's attribute list."""
    have = {a.get("name", "").lower(): a.get("options") or [] for a in existing}
    return any(value not in have.get(name.lower(), [])
               for name, values in variant_options.items() for value in values)


def link_of(product: dict) -> tuple[str, str | None]:
    """(external_id, external_parent_id) of a product or variation payload."""
    parent = product.get("parent_id") or 0
    if product.get("type") == "variation" and parent:
        return str(product["id"]), str(parent)
    return str(product["id"]), None


def item_result(sku: str, answer: dict, created: bool) -> ItemResult:
    """One batch answer (a saved product, or {"id", "error"} in its place) -> ItemResult."""
    error = answer.get("error")
    if error:
        return ItemResult(sku, False, message=f"{error.get('message')} ({error.get('code')})")
    external_id, parent_id = link_of(answer)
    return ItemResult(sku, True, external_id, parent_id, created=created)


# -- orders -------------------------------------------------------------------------------------
ADDRESS_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city",
                  "state", "postcode", "country", "email", "phone")


def _address(raw: dict | None) -> dict:
    raw = raw or {}
    return {key: raw[key] for key in ADDRESS_FIELDS if raw.get(key) not in (None, "")}


def order_record(data: dict) -> OrderRecord:
    status = data.get("status") or "pending"
    paid = bool(data.get("date_paid_gmt")) or status in PAID_STATUSES
    hub_status = STATUS_MAP.get(status) or ("paid" if paid else "pending")
    billing = data.get("billing") or {}
    customer = {"id": str(data["customer_id"]) if data.get("customer_id") else None,
                "email": billing.get("email") or None,
                "first_name": billing.get("first_name") or None,
                "last_name": billing.get("last_name") or None,
                "company": billing.get("company") or None,
                "phone": billing.get("phone") or None,
                "note": data.get("customer_note") or None}
    lines = []
    for item in data.get("line_items") or []:
        lines.append(OrderLineRecord(
            sku=item.get("sku") or "", quantity=int(item.get("quantity") or 0),
            name=item.get("name"), unit_price=decimal(item.get("price")),
            total=decimal(item.get("total")), tax=decimal(item.get("total_tax")),
            external_id=str(item["id"]) if item.get("id") is not None else None))
    return OrderRecord(
        external_id=str(data["id"]), number=str(data.get("number") or data["id"]),
        status=hub_status, platform_status=status,
        updated_at=parse_gmt(data.get("date_modified_gmt") or data.get("date_created_gmt")),
        placed_at=parse_gmt(data.get("date_created_gmt")), paid=paid,
        currency=data.get("currency") or None, total=decimal(data.get("total")),
        tax_total=decimal(data.get("total_tax")),
        shipping_total=decimal(data.get("shipping_total")),
        payment_method=data.get("payment_method") or None,
        customer={k: v for k, v in customer.items() if v is not None},
        billing_address=_address(billing), shipping_address=_address(data.get("shipping")),
        lines=lines)
