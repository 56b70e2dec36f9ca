"""`flask --app wsgi ledger ...`: development tokens and ledger maintenance."""

import signal
import sys
import threading
import time
import uuid
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from joserfc import jwt
from joserfc.jwk import OctKey

from ledger.pages.cli import console_link_command

ledger_cli = AppGroup("ledger", help="Ledger maintenance and development tools.")
ledger_cli.add_command(console_link_command)


def mint_token(
    config: dict,
    *,
    sub: str,
    org_id: str | None = None,
    org_role: str | None = None,
    roles: list[str] | None = None,
    ttl_seconds: int = 3600,
) -> str:
    """An HS256 token signed with JWT_SECRET (development and tests)."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + ttl_seconds,
        "roles": roles or [],
    }
    if org_id:
        claims["org_id"] = org_id
        claims["org_role"] = org_role
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(config["JWT_SECRET"]))


@ledger_cli.command("token")
@click.option("--org", "org_id", help="organisation id the user acts in")
@click.option("--role", type=click.Choice(["owner", "admin", "member", "viewer"]), default="owner")
@click.option("--operator", is_flag=True, help="a platform operator")
@click.option("--service", is_flag=True, help="a trusted internal caller (campaign engine)")
@click.option("--sub", default=None, help="subject (user id)")
@click.option("--ttl", default=3600, show_default=True, help="seconds until it expires")
def token_command(org_id, role, operator, service, sub, ttl):
    """Mint a development bearer token."""
    roles = [r for r, on in (("operator", operator), ("service", service)) if on]
    if not roles and not org_id:
        raise click.UsageError("give --org ID, --operator or --service")
    if org_id:
        try:
            uuid.UUID(org_id)
        except ValueError as e:
            raise click.ClickException(f"--org {org_id!r} is not an organisation id") from e
    if not current_app.config.get("JWT_SECRET"):
        raise click.ClickException("JWT_SECRET is not set: tokens come from the identity provider")
    click.echo(
        mint_token(
            current_app.config,
            sub=sub or ("operator" if operator else "service" if service else "user"),
            org_id=org_id,
            org_role=role if org_id else None,
            roles=roles,
            ttl_seconds=ttl,
        )
    )


@ledger_cli.command("verify")
def verify_command():
    """Check the ledger's invariants; exit 1 and list what is wrong otherwise.

    The result is kept for the console's health page.
    """
    from ledger.services.ledger_health import run_verify

    findings = run_verify(source="command").findings
    for finding in findings:
        click.echo(f"FAIL {finding}")
    if findings:
        sys.exit(1)
    click.echo("ok: the ledger balances")


@ledger_cli.command("expire-lots")
def expire_lots_command():
    """Move what is left of expired lots out of wallets into breakage, and warn of the lots
    that expire within LOT_EXPIRY_WARNING_DAYS (`lot.expiring`, once per lot)."""
    from ledger.book.lots import expire_lots
    from ledger.services.expiry_warnings import warn_expiring_lots

    result = expire_lots()
    click.echo(f"expired {result.lots_expired} lots: {result.amount_expired}")
    click.echo(f"warned of {warn_expiring_lots()} lots expiring soon")


@ledger_cli.command("expire-holds")
def expire_holds_command():
    """Give back what is left of holds past their expiry."""
    from ledger.services.holds import expire_holds

    result = expire_holds()
    click.echo(f"expired {result.holds_expired} holds: {result.amount_released}")


@ledger_cli.command("resume-refunds")
@click.option(
    "--older-than",
    default=60,
    show_default=True,
    help="seconds a request must have been processing (leaves approvals in flight alone)",
)
def resume_refunds_command(older_than):
    """Finish refunds left `processing`: ask the gateway again with the same key."""
    from ledger.services.refunds import resume_refunds

    result = resume_refunds(older_than=timedelta(seconds=older_than))
    for error in result.errors:
        click.echo(f"FAIL {error}")
    click.echo(
        f"succeeded {result.succeeded}, failed {result.failed}, "
        f"still processing {result.processing}"
    )
    if result.errors:
        sys.exit(1)


@ledger_cli.command("sync-topups")
@click.option(
    "--older-than",
    default=10,
    show_default=True,
    help="minutes a top-up must have been pending (leaves payments in progress alone)",
)
def sync_topups_command(older_than):
    """Ask the gateways about pending top-ups and settle them; retry stuck webhook events."""
    from ledger.services.sync import sync_topups

    result = sync_topups(older_than=timedelta(minutes=older_than))
    for error in result.unavailable:
        click.echo(f"FAIL {error}")
    for refusal in result.refused:
        click.echo(f"REFUSED {refusal}")
    settled = ", ".join(f"{status} {n}" for status, n in sorted(result.settled.items()))
    click.echo(
        f"asked about {result.asked} pending top-ups; settled: {settled or 'none'}; "
        f"webhook events processed {result.events.processed}, "
        f"still unmatched {result.events.unmatched}, failed again {result.events.failed}"
    )
    if result.unavailable:
        sys.exit(1)  # an outage: run again later


@ledger_cli.command("deliver-events")
@click.option("--once", is_flag=True, help="deliver what is due now, then exit")
def deliver_events_command(once):
    """Deliver events to webhook endpoints until stopped (SIGTERM or Ctrl-C)."""
    from ledger.services.event_delivery import deliver_due, run_worker

    def report(run):
        click.echo(f"attempted {run.attempted}, delivered {run.delivered}")

    if once:
        report(deliver_due())
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("delivering events until stopped")
    run_worker(stop, on_run=report)
    click.echo("stopped")
