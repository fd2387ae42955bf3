"""Configuration from the environment (twelve-factor).

Three classes share one base: development (embedded defaults), testing (fast hashes, its own
database), production (refuses to start without real secrets). `load_config()` picks one
from PONTE_ENV.
"""
import base64
import hashlib
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PONTE_INSTANCE_DIR", BASE_DIR / "instance"))

DEV_SECRET_KEY = "dev-only-not-a-secret"


def database_url(url: str | None, default: str) -> str:
    """Accept Heroku's `postgres://` and plain `postgresql://`; use psycopg 3 for both."""
    url = url or default
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def dev_credentials_key(secret_key: str) -> str:
    """A stable Fernet key derived from the dev secret, so dev data survives restarts."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()


class Config:
    """Values read from the environment are read when the config is built, not at import."""
    ENV_NAME = "base"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("SESSION_LIFETIME_SECONDS", 12 * 3600))
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024  # product files bigger than this are refused (413)
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, so long forms do not expire

    # Login throttling: failures allowed within the window, per email and per address.
    LOGIN_MAX_FAILURES_PER_EMAIL = int(os.environ.get("LOGIN_MAX_FAILURES_PER_EMAIL", 5))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20))
    LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", 900))

    # Argon2id (argon2-cffi's RFC 9106 low-memory profile: t=3, m=64 MiB, p=4), above OWASP's floor.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    ARGON2_PARALLELISM = 4

    RQ_QUEUES = ["default", "sync", "periodic"]
    # Stock history kept for the product pages; older events are pruned by the tick.
    STOCK_HISTORY_DAYS = int(os.environ.get("STOCK_HISTORY_DAYS", 90))
    JOB_TIMEOUT_SECONDS = int(os.environ.get("JOB_TIMEOUT_SECONDS", 1800))
    # A step whose heartbeat is older than this is considered dead by the reaper.
    STEP_STALE_SECONDS = int(os.environ.get("STEP_STALE_SECONDS", 300))

    def __init__(self):
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY", DEV_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = database_url(
            env.get("DATABASE_URL"), f"sqlite:///{INSTANCE_DIR / 'ponte.db'}")
        self.REDIS_URL = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        # Fernet keys, newest first: encrypt with the first, decrypt with any (rotation).
        self.CREDENTIALS_KEYS = [k.strip() for k in env.get("CREDENTIALS_KEYS", "").split(",")
                                 if k.strip()]
        self.PUBLIC_URL = env.get("PUBLIC_URL", "http://127.0.0.1:5000")
        self.configure(env)
        if not self.CREDENTIALS_KEYS:
            self.CREDENTIALS_KEYS = [dev_credentials_key(self.SECRET_KEY)]

    def configure(self, env) -> None:
        """Hook for the environments that read more (or other) variables."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    # Cheap hashes keep the suite fast; the algorithm and code path are the production ones.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 1024
    ARGON2_PARALLELISM = 1
    STEP_STALE_SECONDS = 2

    def configure(self, env) -> None:
        self.SQLALCHEMY_DATABASE_URI = database_url(
            env.get("TEST_DATABASE_URL"), f"sqlite:///{INSTANCE_DIR / 'test.db'}")
        self.REDIS_URL = env.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    def configure(self, env) -> None:
        problems = []
        if len(self.SECRET_KEY) < 32 or self.SECRET_KEY == DEV_SECRET_KEY:
            problems.append("set SECRET_KEY to a random string of at least 32 characters "
                            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if not self.CREDENTIALS_KEYS:
            problems.append("set CREDENTIALS_KEYS to one or more Fernet keys, newest first "
                            "(python -c 'from cryptography.fernet import Fernet; "
                            "print(Fernet.generate_key().decode())')")
        if problems:
            raise RuntimeError("Ponte refuses to start in production: " + "; ".join(problems))


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig,
           "production": ProductionConfig}


def load_config(name: str | None = None) -> Config:
    name = name or os.environ.get("PONTE_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"PONTE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]()
