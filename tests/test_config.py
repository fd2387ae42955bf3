import pytest

import config


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CREDENTIALS_KEYS", raising=False)
    with pytest.raises(RuntimeError) as err:
        config.load_config("production")
    assert "SECRET_KEY" in str(err.value) and "CREDENTIALS_KEYS" in str(err.value)


def test_production_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("CREDENTIALS_KEYS", "x")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.load_config("production")


def test_production_starts_with_secrets_and_secure_cookies(monkeypatch):
    from cryptography.fernet import Fernet
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("CREDENTIALS_KEYS", f"{Fernet.generate_key().decode()}, ")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/ponte")
    cfg = config.load_config("production")
    assert cfg.SESSION_COOKIE_SECURE and cfg.REMEMBER_COOKIE_SECURE
    assert len(cfg.CREDENTIALS_KEYS) == 1
    assert cfg.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@db.example:5432/ponte"


def test_unknown_environment_is_an_error():
    with pytest.raises(RuntimeError, match="PONTE_ENV"):
        config.load_config("staging")
