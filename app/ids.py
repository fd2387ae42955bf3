"""Public, unguessable identifiers for rows the outside world names (nodes, procedures...)."""
import secrets


def public_id(prefix: str) -> str:
    """`nd_` + 20 url-safe characters (120 bits): never the database's integer ids."""
    return f"{prefix}_{secrets.token_urlsafe(15)}"
