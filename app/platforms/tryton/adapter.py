"""The Tryton ERP adapter: products and stock out of Tryton, shop orders in as sales.

Settings: url, database, warehouse (code or name), quote_and_confirm (confirm|quote|draft),
shipping_product_code. Credentials: login, password. Talks JSON-RPC through client.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from ..base import ErpAdapter
from ..errors import ConfigurationError, ItemError
from ..records import OrderRecord, ProductRecord
from . import mapping
from .client import TrytonClient, TrytonError

WORKFLOWS = ("confirm", "quote", "draft")
# Sale states at or beyond each target, so a half-delivered sale can be carried forward.
_REACHED = {
    "draft": {"draft", "quotation", "confirmed", "processing", "done", "cancelled"},
    "quote": {"quotation", "confirmed", "processing", "done", "cancelled"},
    "confirm": {"confirmed", "processing", "done", "cancelled"},
}


class TrytonAdapter(ErpAdapter):
    key = "tryton"
    label = "Tryton"
    page_size = 500
    settings_fields = [  # rendered by the portal; secret ones are stored encrypted
        {"name": "url", "label": "Server URL (http://host:8000/)", "type": "url",
         "required": True, "secret": False},
        {"name": "database", "label": "Database", "type": "text", "required": True,
         "secret": False},
        {"name": "login", "label": "Login", "type": "text", "required": True, "secret": True},
        {"name": "password", "label": "Password", "type": "password", "required": True,
         "secret": True},
        {"name": "warehouse", "label": "Warehouse (code or name; blank: the only one)",
         "type": "text", "required": False, "secret": False},
        {"name": "quote_and_confirm", "label": "New sales become", "type": "choice",
         "required": False, "secret": False, "default": "confirm",
         "choices": list(WORKFLOWS)},
        {"name": "shipping_product_code", "label": "Shipping product code",
         "type": "text", "required": False, "secret": False},
    ]

    def __init__(self, settings: dict, credentials: dict, *, client: TrytonClient | None = None,
                 **context):
        # **context: the engine passes node facts (ids...) that this adapter does not need.
        super().__init__(settings, credentials)
        self.workflow = (self.settings.get("quote_and_confirm") or "confirm").lower()
        if self.workflow not in WORKFLOWS:
            raise ConfigurationError(f"quote_and_confirm must be one of {', '.join(WORKFLOWS)}, "
                                     f"not '{self.workflow}'")
        self.client = client or TrytonClient(
            self.settings.get("url", ""), self.settings.get("database", ""),
            self.credentials.get("login", ""), self.credentials.get("password", ""),
            timeout=float(self.settings.get("timeout", 30)),
            retries=int(self.settings.get("retries", 3)),
            backoff=float(self.settings.get("backoff", 0.5)))
        self._warehouse: dict | None = None
        self._company: dict | None = None

    # -- shared look-ups -----------------------------------------------------------------

    @property
    def company(self) -> dict:
        if self._company is None:
            company_id = self.client.context.get("company")
            if not company_id:
                raise ConfigurationError(f"Tryton user '{self.client.login_name}' has no "
                                         f"current company")
            self._company, = self.client.model(
                "company.company", "read", [company_id], ["id", "rec_name", "currency"])
        return self._company

    @property
    def warehouse(self) -> dict:
        if self._warehouse is None:
            wanted = (self.settings.get("warehouse") or "").strip()
            domain: list = [["type", "=", "warehouse"]]
            if wanted:
                domain.append(["OR", ["code", "=", wanted], ["name", "=", wanted]])
            rows = list(self.client.search_read("stock.location", domain,
                                                ["id", "code", "name", "rec_name"]))
            if not rows:
                raise ConfigurationError(f"Tryton has no warehouse '{wanted}'" if wanted
                                         else "Tryton has no warehouse")
            if len(rows) > 1:
                names = ", ".join(r["rec_name"] for r in rows)
                raise ConfigurationError(f"Several Tryton warehouses match ({names}): set the "
                                         f"'warehouse' setting to one code")
            self._warehouse = rows[0]
        return self._warehouse

    def _stock_context(self) -> dict:
        # No stock_date_end: Tryton then takes date.max, so forecast_quantity counts every
        # planned move (see mapping.QUANTITY_FIELD). Locations are always explicit.
        return {**self.client.context, "locations": [self.warehouse["id"]]}

    # -- interface -----------------------------------------------------------------------

    def test_connection(self) -> dict:
        version = self.client.version()
        self.client.login()
        currency, = self.client.model("currency.currency", "read",
                                      [self.company["currency"]], ["code"])
        return {"version": version, "company": self.company["rec_name"],
                "currency": currency["code"], "warehouse": self.warehouse["rec_name"],
                "database": self.client.database, "login": self.client.login_name}

    def fetch_products(self, changed_since: datetime | None, quantity_only: bool
                       ) -> Iterator[ProductRecord]:
        fields = (mapping.PRODUCT_FIELDS_QUANTITY if quantity_only
                  else mapping.PRODUCT_FIELDS_FULL)
        # Goods with a code only: services (shipping, fees) are not stock a shop can sell.
        base = [["code", "!=", None], ["type", "!=", "service"]]
        context = self._stock_context()
        if changed_since is None:
            for row in self.client.search_read("product.product", base, fields,
                                               context=context, page=self.page_size):
                yield mapping.product_record(row, quantity_only)
            return
        ids = sorted(self._changed_product_ids(mapping.utc_naive(changed_since),
                                               quantity_only))
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start:start + self.page_size]
            for row in self.client.search_read("product.product",
                                               base + [["id", "in", chunk]], fields,
                                               context=context, page=self.page_size):
                yield mapping.product_record(row, quantity_only)

    def _changed_product_ids(self, since: datetime, quantity_only: bool) -> set[int]:
        ids: set[int] = set()
        if not quantity_only:
            # A price change moves product.template.write_date, not the variant's.
            domain = [mapping.changed_domain(since, "", "template.")]
            ids.update(r["id"] for r in self.client.search_read(
                "product.product", domain, ["id"], page=self.page_size))
        # Any move state, not only 'done': forecast_quantity also changes when a sale's
        # planned moves are created or cancelled. Moves outside the warehouse just cost an
        # extra re-read of an unchanged product.
        for row in self.client.search_read("stock.move", [mapping.changed_domain(since, "")],
                                           ["product"], page=self.page_size):
            ids.add(row["product"])
        return ids

    def find_order(self, reference: str) -> str | None:
        sale = self._find_sale(reference)
        if sale is None:
            return None
        # A sale created by an attempt that died before quote/confirm is carried forward
        # here, so "found" always means "delivered as the settings ask".
        sale = self._advance(sale, reference)
        return sale["number"]

    def deliver_order(self, order: OrderRecord, reference: str) -> str:
        found = self.find_order(reference)
        if found:
            return found
        if not order.lines:
            raise ItemError(reference, "the order has no lines")
        products = self._products_by_sku(reference, [line.sku for line in order.lines])
        party_id, invoice_id, shipment_id = self._party_and_addresses(order, reference)
        lines = []
        for line in order.lines:
            product = products[line.sku]
            values = mapping.line_values(line, product["id"], product["sale_uom"])
            values.setdefault("unit_price", product["list_price_used"] or Decimal("0"))
            lines.append(values)
        shipping = Decimal(order.shipping_total or 0)
        code = (self.settings.get("shipping_product_code") or "").strip()
        if code and shipping:
            product = self._products_by_sku(reference, [code], kind="shipping product")[code]
            lines.append({"type": "line", "product": product["id"], "quantity": 1.0,
                          "unit": product["sale_uom"], "unit_price": shipping,
                          "description": "Shipping"})
        elif shipping:
            # Without a shipping product Tryton cannot price a line: keep the amount visible
            # as a comment line rather than losing it silently.
            lines.append({"type": "comment", "description": f"Shipping: {shipping}"})
        values = {
            "company": self.company["id"], "currency": self._currency_id(order, reference),
            "party": party_id, "invoice_address": invoice_id, "shipment_address": shipment_id,
            "warehouse": self.warehouse["id"],
            "reference": order.number, "description": mapping.hub_marker(reference),
            "sale_date": (order.placed_at.date() if order.placed_at else date.today()),
            "comment": "\n".join(filter(None, [
                f"Imported by Ponte from order {order.number}",
                f"Payment: {order.payment_method}" if order.payment_method else ""])),
            "lines": [["create", lines]],
        }
        try:
            sale_id, = self.client.model("sale.sale", "create", [values])
        except TrytonError as error:
            raise ItemError(reference, f"Tryton refused the sale: {error.message}") from error
        sale, = self.client.model("sale.sale", "read", [sale_id], ["id", "number", "state"])
        return self._advance(sale, reference)["number"]

    def close(self) -> None:
        self.client.close()

    # -- helpers -------------------------------------------------------------------------

    def _find_sale(self, reference: str) -> dict | None:
        rows = self.client.model("sale.sale", "search_read",
                                 [["description", "=", mapping.hub_marker(reference)]],
                                 0, 1, [["id", "ASC"]], ["id", "number", "state"])
        return rows[0] if rows else None

    def _advance(self, sale: dict, reference: str) -> dict:
        try:
            if sale["state"] not in _REACHED["quote"] and self.workflow in ("quote", "confirm"):
                self.client.model("sale.sale", "quote", [sale["id"]])
            if sale["state"] not in _REACHED["confirm"] and self.workflow == "confirm":
                self.client.model("sale.sale", "confirm", [sale["id"]])
        except TrytonError as error:
            raise ItemError(reference, f"Tryton sale {sale['id']} stays in '{sale['state']}': "
                                       f"{error.message}") from error
        sale, = self.client.model("sale.sale", "read", [sale["id"]], ["id", "number", "state"])
        if not sale["number"]:
            # Draft sales get their number at quotation; fall back to the id so the hub
            # still has a stable ERP reference.
            sale["number"] = str(sale["id"])
        return sale

    def _products_by_sku(self, reference: str, skus: list[str], kind: str = "SKU"
                         ) -> dict[str, dict]:
        wanted = sorted(set(skus))
        rows = self.client.search_read(
            "product.product", [["code", "in", wanted]],
            ["id", "code", "sale_uom", "list_price_used", "salable"])
        found = {row["code"]: row for row in rows}
        missing = [sku for sku in wanted if sku not in found]
        if missing:
            raise ItemError(reference, f"unknown {kind} {', '.join(missing)} in Tryton "
                                       f"(no active product with that code)")
        not_salable = [sku for sku in wanted if not found[sku]["salable"]]
        if not_salable:
            raise ItemError(reference, f"{kind} {', '.join(not_salable)} is not salable in "
                                       f"Tryton")
        return found

    def _currency_id(self, order: OrderRecord, reference: str) -> int:
        if not order.currency:
            return self.company["currency"]
        rows = self.client.model("currency.currency", "search",
                                 [["code", "=", order.currency.upper()]], 0, 1, None)
        if not rows:
            raise ItemError(reference, f"currency {order.currency} does not exist in Tryton")
        return rows[0]

    def _country_id(self, code: str) -> int | None:
        if not code:
            return None
        rows = self.client.model("country.country", "search", [["code", "=", code]], 0, 1, None)
        return rows[0] if rows else None

    def _party_and_addresses(self, order: OrderRecord, reference: str
                             ) -> tuple[int, int, int]:
        email = mapping.customer_email(order)
        party_id = None
        if email:
            rows = self.client.model(
                "party.contact_mechanism", "search_read",
                [["type", "=", "email"], ["value", "ilike", _escape_like(email)]],
                0, 1, [["id", "ASC"]], ["party"])
            party_id = rows[0]["party"] if rows else None
        name = mapping.party_name(order)
        if party_id is None:
            values: dict = {"name": name}
            if email:
                values["contact_mechanisms"] = [["create", [{"type": "email", "value": email}]]]
            phone = (order.customer.get("phone") or order.billing_address.get("phone"))
            if phone:
                values.setdefault("contact_mechanisms", [["create", []]])[0][1].append(
                    {"type": "phone", "value": str(phone)})
            try:
                party_id, = self.client.model("party.party", "create", [values])
            except TrytonError as error:
                raise ItemError(reference, f"Tryton refused the customer: {error.message}"
                                ) from error
        billing = order.billing_address or order.shipping_address
        shipping = order.shipping_address or order.billing_address
        invoice_id = self._address(party_id, billing, name, reference)
        shipment_id = self._address(party_id, shipping, name, reference)
        return party_id, invoice_id, shipment_id

    def _address(self, party_id: int, address: dict, name: str, reference: str) -> int:
        values = mapping.address_values(address or {}, name)
        country = self._country_id(mapping.country_code(address or {}))
        existing = self.client.model(
            "party.address", "search_read", [["party", "=", party_id]], 0, None,
            [["id", "ASC"]], ["id", "country", *values])
        for row in existing:
            if mapping.same_address(row, values, country):
                return row["id"]
        try:
            address_id, = self.client.model("party.address", "create",
                                            [{**values, "party": party_id, "country": country}])
        except TrytonError as error:
            raise ItemError(reference, f"Tryton refused an address: {error.message}") from error
        return address_id


def _escape_like(value: str) -> str:
    # ilike gives a case-insensitive exact match once its wildcards are escaped.
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
