"""Seed a fresh Tryton database with what the Ponte adapter tests expect.

Runs with the *Tryton* virtualenv's python (never imported by pytest): it uses trytond's own
Pool/Transaction API because creating a company and attaching it to the admin user is several
wizard steps over RPC. Usage: python seed.py <trytond.conf> <database> -> prints JSON facts.
"""
import json
import sys
from decimal import Decimal

# Kept in one place so the harness and the tests read the same figures (printed as JSON).
PRODUCTS = [
    # sku, name, description, list price, quantity in the warehouse storage
    ("TS-BLU-M", "Blue T-Shirt M", "Organic cotton, medium", "16.80", 12),
    ("MUG-01", "Ponte Mug", "Stoneware mug, 300 ml", "9.90", 5),
    ("CAP-RED", "Red Cap", None, "12.50", 0),
    ("BAG-01", "Canvas Bag", "Tote bag", "29.00", 3),
]
SHIPPING_CODE = "SHIP"
CUSTOMER_EMAIL = "jane@example.com"


def main(conf, dbname):
    from trytond import config
    config.update_etc(conf)
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    Pool.start()
    pool = Pool(dbname)
    with Transaction().start(dbname, 0, readonly=True):
        pool.init()

    # Singletons (sale.configuration) lock their table: trytond asks the caller to restart
    # the transaction with that lock taken, as its own dispatcher does.
    extras = {}
    for _ in range(5):
        try:
            with Transaction().start(dbname, 0, context={}, **extras) as transaction:
                facts = seed(pool, Transaction)
                transaction.commit()
            break
        except TransactionError as error:
            error.fix(extras)
    else:
        raise SystemExit("seeding kept failing on transaction locks")
    print("SEED-FACTS " + json.dumps(facts))


def seed(pool, Transaction):
    get = pool.get
    Currency, Country = get("currency.currency"), get("country.country")
    Party, Company, User = get("party.party"), get("company.company"), get("res.user")
    ModelData, Location = get("ir.model.data"), get("stock.location")
    Template, Inventory = get("product.template"), get("stock.inventory")
    SaleConfiguration = get("sale.configuration")

    eur, = Currency.create([{"name": "Euro", "code": "EUR", "symbol": "€",
                             "rounding": Decimal("0.01"), "digits": 2}])
    fr, de = Country.create([{"name": "France", "code": "FR"},
                             {"name": "Germany", "code": "DE"}])
    company_party, = Party.create([{
        "name": "Ponte Test Co",
        "addresses": [("create", [{"street": "1 Quai Test", "postal_code": "75001",
                                   "city": "Paris", "country": fr.id}])]}])
    company, = Company.create([{"party": company_party.id, "currency": eur.id,
                                "timezone": "UTC"}])
    admin, = User.search([("login", "=", "admin")])
    User.write([admin], {"companies": [("add", [company.id])], "company": company.id})

    with Transaction().set_context(company=company.id, user=0):
        # No chart of accounts here: 'order' invoicing would need revenue accounts at
        # confirm time, so sales default to manual invoicing (the facts file says so too).
        configuration = SaleConfiguration(1)
        configuration.sale_invoice_method = "manual"
        configuration.save()

        unit = ModelData.get_id("product", "uom_unit")
        templates = Template.create([{
            "name": name, "code": sku, "type": "goods", "default_uom": unit,
            "salable": True, "sale_uom": unit, "list_price": Decimal(price),
            "products": [("create", [{"description": description}])],
        } for sku, name, description, price, _ in PRODUCTS] + [{
            "name": "Shipping", "code": SHIPPING_CODE, "type": "service",
            "default_uom": unit, "salable": True, "sale_uom": unit,
            "list_price": Decimal("0"), "products": [("create", [{}])],
        }])
        warehouse, = Location.search([("code", "=", "WH")])
        storage = warehouse.storage_location
        inventory, = Inventory.create([{
            "location": storage.id,
            "lines": [("create", [{"product": t.products[0].id, "quantity": float(qty)}
                                  for t, (*_, qty) in zip(templates, PRODUCTS) if qty])],
        }])
        Inventory.confirm([inventory])

        customer, = Party.create([{
            "name": "Existing Customer",
            "addresses": [("create", [{"street": "5 Rue Client", "postal_code": "69001",
                                       "city": "Lyon", "country": fr.id}])],
            "contact_mechanisms": [("create", [{"type": "email",
                                                "value": CUSTOMER_EMAIL}])],
        }])
    return {
        "company_id": company.id, "company_name": company_party.name,
        "currency_id": eur.id, "warehouse_id": warehouse.id,
        "warehouse_code": warehouse.code, "storage_id": storage.id,
        "customer_id": customer.id, "customer_email": CUSTOMER_EMAIL,
        "countries": {"FR": fr.id, "DE": de.id},
        "shipping_code": SHIPPING_CODE,
        "products": {sku: {"name": name, "description": description, "price": price,
                           "quantity": qty, "id": t.products[0].id}
                     for t, (sku, name, description, price, qty)
                     in zip(templates, PRODUCTS)},
    }


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
