"""`digest subscribers ...`: add, list, export and delete subscribers."""

from __future__ import annotations

from typing import Any

import click

from digest import db
from digest.cli.base import Context, cli, config_option, pass_ctx

_LIST_OPTIONS = ("keywords", "categories", "authors", "exclude")


@cli.group("subscribers")
def subscribers_group() -> None:
    """Add, list, export and delete subscribers."""


@subscribers_group.command("add")
@click.argument("email")
@click.option("--keywords", default="", help='Comma-separated, e.g. "diffusion, LoRA".')
@click.option("--categories", default="", help="Comma-separated arXiv ids, e.g. cs.LG,cs.CL.")
@click.option("--authors", default="", help="Comma-separated authors to follow.")
@click.option("--exclude", default="", help="Comma-separated words that rule a paper out.")
@click.option("--timezone", default=None, help="IANA time zone, e.g. Europe/Berlin.")
@click.option("--send-time", default=None, help="Local send time, HH:MM.")
@click.option("--cadence", type=click.Choice(["daily", "weekly"]), default="daily")
@click.option("--weekday", default="mon", help="Weekday of a weekly digest (mon..sun).")
@click.option("--max-papers", type=int, default=None, help="Papers per digest (1-50).")
@click.option("--trending-weight", type=float, default=None, help="0 personal .. 1 trending.")
@click.option("--confirmed", is_flag=True, help="Skip double opt-in (you have their consent).")
@config_option
@pass_ctx
def subscribers_add(ctx: Context, email: str, confirmed: bool, **options: Any) -> None:
    """Add a subscriber (pending unless --confirmed); an existing address is left unchanged."""
    from datetime import UTC, datetime

    from digest.emails import InvalidEmail
    from digest.store import subscribers as store

    lists: dict[str, Any] = {key: store.split_list(options.pop(key)) for key in _LIST_OPTIONS}
    try:
        with db.session_scope(ctx.sessions()) as session:
            sub = store.create_subscriber(
                session,
                email,
                settings=ctx.settings,
                now=datetime.now(UTC),
                confirmed=confirmed,
                **lists,
                **options,
            )
            click.echo(f"{sub.email}: {sub.status} (id {sub.id})")
    except (InvalidEmail, store.SubscriberError) as exc:
        raise click.ClickException(str(exc)) from None


@subscribers_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="table")
@config_option
@pass_ctx
def subscribers_list(ctx: Context, fmt: str) -> None:
    """List subscribers with their settings and interests."""
    import json

    from digest.store import subscribers as store

    with db.session_scope(ctx.sessions()) as session:
        for sub in store.list_subscribers(session):
            interests = store.interests_by_kind(sub)
            row: dict[str, Any] = {"id": sub.id, "email": sub.email, "status": sub.status}
            row |= store.settings_of(sub) | {"interests": interests}
            if fmt == "jsonl":
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                topics = ", ".join(v for values in interests.values() for v in values)
                click.echo(f"{sub.id:>5}  {sub.status:<12} {sub.email:<40} {topics[:60]}")


@subscribers_group.command("export")
@click.argument("email")
@config_option
@pass_ctx
def subscribers_export(ctx: Context, email: str) -> None:
    """Print everything held about one subscriber as JSON."""
    import json

    with db.session_scope(ctx.sessions()) as session:
        sub = _find_subscriber(session, email)
        from digest.store.subscribers import export_subscriber

        click.echo(json.dumps(export_subscriber(session, sub), indent=2, ensure_ascii=False))


@subscribers_group.command("delete")
@click.argument("email")
@config_option
@pass_ctx
def subscribers_delete(ctx: Context, email: str) -> None:
    """Delete a subscriber and their data; the address hash stays on the suppression list."""
    from datetime import UTC, datetime

    from digest.store.subscribers import delete_subscriber

    with db.session_scope(ctx.sessions()) as session:
        sub = _find_subscriber(session, email)
        delete_subscriber(session, sub, datetime.now(UTC))
    click.echo(f"deleted {email}; the address will not be mailed again")


def _find_subscriber(session: Any, email: str) -> Any:
    from digest.emails import InvalidEmail
    from digest.store.subscribers import get_by_email

    try:
        sub = get_by_email(session, email)
    except InvalidEmail as exc:
        raise click.ClickException(str(exc)) from None
    if sub is None:
        raise click.ClickException(f"no subscriber with address {email}")
    return sub
