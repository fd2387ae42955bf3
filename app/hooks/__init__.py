"""The ERP-facing API (/erp/v1): JSON or CSV behind a PONTE-HMAC-SHA256-V1 signature."""
from flask import Blueprint

bp = Blueprint("hooks", __name__, url_prefix="/erp/v1")

from . import views  # noqa: E402,F401
