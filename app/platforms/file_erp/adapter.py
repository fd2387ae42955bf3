"""The generic file ERP: an ERP on a LAN that cannot be reached, so it calls the hub.

It pushes product files to /erp/v1 and pulls the order feed; the adapter only declares that
(product_source='upload', order_delivery='feed'). The engine reads the uploads and offers orders.
"""
from __future__ import annotations

from ..base import ErpAdapter


class FileErpAdapter(ErpAdapter):
    key = "file_erp"
    label = "ERP via files (push products, pull orders)"
    product_source = "upload"
    order_delivery = "feed"
    settings_fields: list[dict] = []

    def __init__(self, settings: dict, credentials: dict, **context):
        super().__init__(settings, credentials)

    def test_connection(self) -> dict:
        return {"mode": "The ERP calls the hub with its signing key; nothing to reach from here."}
