import pytest

from app.models import Node, Procedure
from tests import builders as b


def test_scoped_helpers_refuse_another_accounts_rows(ctx):
    mine, theirs = b.account("Mine"), b.account("Theirs")
    their_node = b.node(theirs, "sandbox", "Their shop")
    my_node = b.node(mine, "sandbox", "My shop")
    assert Node.get_owned(mine, my_node.id).id == my_node.id
    assert Node.get_owned(mine, their_node.id) is None
    assert Node.get_owned_by_public_id(mine, their_node.public_id) is None
    their_proc = b.template(theirs, "every_5_minutes")
    assert Procedure.get_owned(mine, their_proc.id) is None


def test_scoped_query_requires_an_account(ctx):
    with pytest.raises(ValueError):
        Node.scoped(None)


def test_credentials_are_encrypted_at_rest(ctx):
    from app.services.nodes import create_node, node_credentials
    acc = b.account()
    node = create_node(acc, "sandbox", "Shop", credentials={"consumer_secret": "cs_topsecret"})
    assert b"cs_topsecret" not in node.credentials_encrypted
    assert node_credentials(node) == {"consumer_secret": "cs_topsecret"}
