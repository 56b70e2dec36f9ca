"""`flask --app wsgi ledger console-link`: an operator's way in, in development only."""

import click
from flask import current_app
from flask.cli import with_appcontext

from ledger.pages.links import sign_in_url
from ledger.services.page_sessions import create_sign_in_link


@click.command("console-link")
@with_appcontext
@click.option("--sub", default="dev-operator", show_default=True, help="the operator's id")
def console_link_command(sub):
    """Print a one-use console sign-in link, valid 10 minutes (development only)."""
    if current_app.config["LEDGER_ENV"] == "production":
        raise click.ClickException(
            "console-link is for development only: in production operators sign in "
            "through the identity provider (OIDC_*)"
        )
    link = create_sign_in_link(kind="operator", subject=sub)
    click.echo(f"One use, valid until {link.expires_at:%H:%M:%S} UTC:")
    click.echo(sign_in_url("operator", link.token))
