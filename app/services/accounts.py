"""Creating accounts and users."""
from __future__ import annotations

from app.auth.passwords import hash_password
from app.extensions import db
from app.models import Account, Role, User


class AccountError(Exception):
    pass


def create_account(name: str) -> Account:
    """A new account, with the seed's procedures ready as templates."""
    from app.services.procedures import seed_template_procedures
    account = Account(name=name.strip())
    db.session.add(account)
    db.session.flush()
    seed_template_procedures(account.id)
    db.session.commit()
    return account


def create_user(account_id: int, email: str, password: str, role: str = Role.OWNER.value) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < 10:
        raise AccountError("passwords need at least 10 characters")
    if role not in {r.value for r in Role}:
        raise AccountError(f"unknown role {role!r}")
    if db.session.get(Account, account_id) is None:
        raise AccountError(f"no account {account_id}")
    if db.session.scalar(db.select(User).where(User.email == email)):
        raise AccountError(f"a user with email {email} exists already")
    user = User(account_id=account_id, email=email, password_hash=hash_password(password),
                role=role)
    db.session.add(user)
    db.session.commit()
    return user
