"""`flask ponte ...` commands: accounts, users, the demo merchant, runs."""
from __future__ import annotations

import secrets

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db
from app.models import Account, Role, User

ponte = AppGroup("ponte", help="Ponte administration.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(ponte)


@ponte.command("create-account")
@click.argument("name")
def create_account_cmd(name: str):
    """Create a merchant account and print its id."""
    from app.services.accounts import create_account
    account = create_account(name)
    click.echo(f"account {account.id} {account.name!r} created")


@ponte.command("create-user")
@click.argument("email")
@click.option("--account", "account_id", type=int, required=True, help="Account id.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.OWNER.value)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_cmd(email: str, account_id: int, role: str, password: str):
    """Create a user who can log in to the portal."""
    from app.services.accounts import AccountError, create_user
    try:
        user = create_user(account_id, email, password, role)
    except AccountError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"user {user.email} ({user.role}) created in account {user.account_id}")


@ponte.command("demo")
@click.option("--email", default="demo@ponte.local")
@click.option("--password", default=None, help="Default: a new random one, printed.")
def demo_cmd(email: str, password: str | None):
    """Create (or reset the password of) the demo merchant, with a file ERP and a sandbox."""
    from app.services.demo import ensure_demo
    password = password or secrets.token_urlsafe(9)
    account = ensure_demo(email, password)
    click.echo(f"Demo merchant {account.name!r}: log in as {email} / {password}")


@ponte.command("run")
@click.argument("procedure_id")
@click.option("--account", "account_id", type=int, required=True)
def run_cmd(procedure_id: str, account_id: int):
    """Start a procedure (by its public id) as the CLI trigger."""
    from app.models import Procedure, Trigger
    from app.services.runs import RunError, start_run
    proc = Procedure.get_owned_by_public_id(account_id, procedure_id)
    if proc is None:
        raise click.ClickException("no such procedure in that account")
    try:
        result = start_run(account_id, proc.id, Trigger.CLI.value, "cli")
    except RunError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"run {result.run.id} {'joined (coalesced)' if result.coalesced else 'queued'}")


@ponte.command("reap")
def reap_cmd():
    """Close or re-enqueue runs left queued or running by a dead worker or an empty Redis."""
    from app.services.reaper import reap_stale_runs
    click.echo(reap_stale_runs())


@ponte.command("rotate-credentials")
def rotate_credentials_cmd():
    """Re-encrypt every stored secret with the newest CREDENTIALS_KEYS key.

    Put the new key first in CREDENTIALS_KEYS (keep the old one after it), run this, then
    drop the old key.
    """
    from app.crypto import rotate
    from app.models import Node, NodeKey
    count = 0
    for node in db.session.scalars(db.select(Node).where(
            Node.credentials_encrypted.is_not(None))):
        node.credentials_encrypted = rotate(node.credentials_encrypted)
        count += 1
    for key in db.session.scalars(db.select(NodeKey)):
        key.secret_encrypted = rotate(key.secret_encrypted)
        count += 1
    db.session.commit()
    click.echo(f"{count} secrets re-encrypted with the newest key")
