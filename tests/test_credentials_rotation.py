from cryptography.fernet import Fernet

from app.services.nodes import create_key, create_node, key_secret, node_credentials
from tests import builders as b


def test_credentials_keys_rotate_without_losing_a_secret(ctx):
    acc = b.account()
    old_keys = list(ctx.config["CREDENTIALS_KEYS"])
    node = create_node(acc, "sandbox", "Shop", credentials={"token": "t0p-secret"})
    erp = create_node(acc, "file_erp", "ERP")
    key, secret = create_key(erp)
    from app.extensions import db
    db.session.commit()
    new = Fernet.generate_key().decode()
    ctx.config["CREDENTIALS_KEYS"] = [new] + old_keys  # newest first, old still readable
    try:
        result = ctx.test_cli_runner().invoke(args=["ponte", "rotate-credentials"])
        assert result.exit_code == 0 and "2 secrets" in result.output
        ctx.config["CREDENTIALS_KEYS"] = [new]  # the old key is gone: everything still reads
        db.session.expire_all()
        assert node_credentials(node) == {"token": "t0p-secret"}
        assert key_secret(key) == secret
    finally:
        ctx.config["CREDENTIALS_KEYS"] = old_keys
