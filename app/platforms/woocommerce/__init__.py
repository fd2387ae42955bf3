"""WooCommerce (REST API v3) platform package: client, mapping and the store adapter.

Import WooCommerceAdapter from here; the registry maps the key 'woocommerce' to it.
Nothing here imports Flask or the database.
"""
from .adapter import WooCommerceAdapter
from .client import WooCommerceClient, WooCommerceError

__all__ = ["WooCommerceAdapter", "WooCommerceClient", "WooCommerceError"]
