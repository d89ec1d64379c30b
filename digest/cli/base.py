"""The command group every command hangs on: settings, the database, and `--config` everywhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from digest import db
from digest.config import Settings, load_settings

log = logging.getLogger("digest")

FILE = click.Path(path_type=Path, dir_okay=False)  # the type of every file option
DIRECTORY = click.Path(path_type=Path, file_okay=False)


class Context:
    """What every command gets: the settings, and the process's engine for their database."""

    def __init__(self, config_file: Path | None) -> None:
        self.config_file = config_file
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
            from digest.logs import setup_logging

            setup_logging(self._settings.log_level, self._settings.log_format)
        return self._settings

    @property
    def engine(self) -> Any:
        return self.sessions().kw["bind"]

    def sessions(self) -> Any:
        return db.sessions_for(self.settings.database_url)


pass_ctx = click.make_pass_decorator(Context)


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--config FILE` on every command, so it can go before or after the command name."""

    def store(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
        if value is not None:
            ctx.ensure_object(Context).config_file = value
            ctx.find_object(Context)._settings = None  # type: ignore[union-attr]

    return click.option(
        "--config",
        type=FILE,
        expose_value=False,
        callback=store,
        is_eager=True,
        help="TOML settings file (default: config/digest.toml if present).",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=FILE,
    help="TOML settings file (default: config/digest.toml if present).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """digest: a personalized daily digest of the day's research papers, by email."""
    ctx.obj = Context(config_file)


def parse_now(text: str | None) -> Any:
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not ISO 8601", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def require_schema(ctx: Context) -> None:
    from digest.ingest import SchemaMissing, require_schema

    try:
        require_schema(ctx.engine)
    except SchemaMissing as exc:
        raise click.ClickException(str(exc)) from None
