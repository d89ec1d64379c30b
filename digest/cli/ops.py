"""Operators' commands: db upgrade, status, worker, serve."""

from __future__ import annotations

import click

from digest import db
from digest.cli.base import Context, cli, config_option, pass_ctx


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@config_option
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the schema to the newest revision."""
    db.upgrade(ctx.engine)
    click.echo("database is up to date")


_LIST_OPTIONS = ("keywords", "categories", "authors", "exclude")


@cli.command("status")
@config_option
@pass_ctx
def status_command(ctx: Context) -> None:
    """Show the sources, the last runs, the queue of pending deliveries and recent bounces."""
    from datetime import UTC, datetime

    from rich.console import Console
    from sqlalchemy.exc import SQLAlchemyError

    from digest.sources_config import load_sources
    from digest.status import render_status

    sources = load_sources(ctx.settings.sources_file)
    try:
        with db.session_scope(ctx.sessions()) as session:
            render_status(session, datetime.now(UTC), Console(), sources)
    except SQLAlchemyError as exc:
        reason = str(exc.orig if hasattr(exc, "orig") else exc).strip().splitlines()[0]
        raise click.ClickException(f"cannot read the database: {reason}") from None


@cli.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Send processes on this machine.",
)
@click.option(
    "--visibility-timeout",
    type=click.IntRange(1),
    default=900,
    show_default=True,
    help="Seconds before a batch held by a vanished worker is handed out again.",
)
@config_option
@pass_ctx
def worker_command(ctx: Context, concurrency: int, visibility_timeout: int) -> None:
    """Run a Celery worker for the send step (with executor = "celery")."""
    from digest.tasks import run_worker

    run_worker(ctx.settings, concurrency=concurrency, visibility_timeout=visibility_timeout)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--with-scheduler", is_flag=True, help="Also run the scheduler in this process.")
@click.option("--dev", is_flag=True, help="Run the local SMTP server and show /dev/inbox.")
@config_option
@pass_ctx
def serve(ctx: Context, host: str, port: int, with_scheduler: bool, dev: bool) -> None:
    """Run the web app on gunicorn (subscribe, preferences, one-click links, /healthz)."""
    from digest.web.server import serve as run_server

    run_server(
        ctx.settings,
        host,
        port,
        dev=dev,
        with_scheduler=with_scheduler,
        config_file=ctx.config_file,
    )
