"""Typed platform errors: the type decides what the engine does next.

RetryLaterError -> back off and retry (network, 429 with Retry-After, 5xx, lock busy);
ItemError -> give up on this one item, record why, carry on;
AuthError -> stop the node until the merchant fixes the credentials.
"""


class PlatformError(Exception):
    """Base of every error an adapter raises on purpose."""


class RetryLaterError(PlatformError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after  # seconds the platform asked us to wait, if it said


class ItemError(PlatformError):
    def __init__(self, ref: str, message: str):
        super().__init__(f"{ref}: {message}")
        self.ref = ref
        self.message = message


class AuthError(PlatformError):
    """The platform rejected the credentials (401/403): the node is stopped."""


class ConfigurationError(PlatformError):
    """The node's settings cannot work (missing URL, unknown option)."""
