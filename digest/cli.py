"""The `digest` command line: one click group; each command opens its own session at the edge."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from digest import db
from digest.config import ConfigError, Settings, load_settings

log = logging.getLogger("digest")


class Context:
    """What every command gets: the settings, and a lazily made engine."""

    def __init__(self, config_file: Path | None) -> None:
        self.config_file = config_file
        self._settings: Settings | None = None
        self._engine: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings

    @property
    def engine(self) -> Any:
        if self._engine is None:
            self._engine = db.make_engine(self.settings.database_url)
        return self._engine

    def sessions(self) -> Any:
        return db.make_sessionmaker(self.engine)


pass_ctx = click.make_pass_decorator(Context)


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--config FILE` on every command, so it can go before or after the command name."""

    def store(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
        if value is not None:
            ctx.ensure_object(Context).config_file = value
            ctx.find_object(Context)._settings = None  # type: ignore[union-attr]

    return click.option(
        "--config",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=store,
        is_eager=True,
        help="TOML settings file (default: config/digest.toml if present).",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML settings file (default: config/digest.toml if present).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """digest: a personalized daily digest of the day's research papers, by email."""
    ctx.obj = Context(config_file)


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


def main() -> None:
    """Entry point: turn expected failures into one clear line and a non-zero exit."""
    from digest.logs import setup_logging

    try:
        setup_logging()
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
