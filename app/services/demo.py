"""The demo merchant of the README's run command: a file ERP, two sandbox stores, products."""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.passwords import hash_password
from app.extensions import db
from app.models import Account, Procedure, Role, User
from app.services.accounts import create_account
from app.services.nodes import create_key, create_node
from app.services.procedures import create_from_template

DEMO_PRODUCTS = [
    ("TEE-BLU-M", "Blue T-shirt, M", "19.90", 12), ("TEE-BLU-L", "Blue T-shirt, L", "19.90", 7),
    ("MUG-ESP", "Espresso mug", "8.50", 40), ("BAG-CNV", "Canvas tote bag", "14.00", 3),
    ("CAP-RED", "Red cap", "12.00", 0),
]


def ensure_demo(email: str, password: str) -> Account:
    user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
    if user is not None:
        user.password_hash = hash_password(password)
        db.session.commit()
        return user.account
    account = create_account("Demo Shop")
    db.session.add(User(account_id=account.id, email=email.lower(),
                        password_hash=hash_password(password), role=Role.OWNER.value))
    erp = create_node(account.id, "file_erp", "Office ERP (files)")
    create_node(account.id, "sandbox", "Sandbox shop A")
    create_node(account.id, "sandbox", "Sandbox shop B")
    create_key(erp)
    publish = create_from_template(account.id, "publish_catalogue")
    _seed_catalogue(account.id, erp)
    db.session.commit()
    from app.services.runs import start_run
    for proc in (publish, _template(account.id, "every_5_minutes")):
        start_run(account.id, proc.id, "cli", "demo set-up")
    return account


def _template(account_id: int, template: str) -> Procedure:
    return db.session.scalar(Procedure.scoped(account_id).where(Procedure.template == template))


def _seed_catalogue(account_id: int, erp) -> None:
    """As if the ERP had uploaded its first product file."""
    import csv
    import io

    from app.services.erp_feed import store_upload
    out = io.StringIO()
    w = csv.writer(out, delimiter=";")
    w.writerow(["sku", "name", "price", "quantity"])
    for sku, name, price, qty in DEMO_PRODUCTS:
        w.writerow([sku, name, price.replace(".", ","), qty])
    store_upload(erp, out.getvalue().encode(), "text/csv", "full")
