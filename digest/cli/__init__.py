"""The `digest` command line: one click group; each command opens its own session at the edge.

Commands live by concern in this package; importing them registers them on the group.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import DBAPIError

from digest.cli import ops, papers, pipeline, subscribers  # noqa: F401 (registers the commands)
from digest.cli.base import cli
from digest.config import ConfigError

__all__ = ["cli", "main"]


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
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        click.echo(
            f"error: database: {reason} (check database_url; run `digest db upgrade`)", err=True
        )
        sys.exit(1)
