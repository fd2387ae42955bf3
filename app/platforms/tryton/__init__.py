"""Tryton ERP platform (JSON-RPC to trytond): products and stock out, sales in.

The adapter is registered under the platform key 'tryton'.
"""
from .adapter import TrytonAdapter
from .client import TrytonClient, TrytonError

__all__ = ["TrytonAdapter", "TrytonClient", "TrytonError"]
