"""The daily pipeline's commands: run, send, schedule, demo, mailcatcher, bench."""

from __future__ import annotations

from pathlib import Path

import click

from digest import db
from digest.cli.base import DIRECTORY, FILE, Context, cli, config_option, parse_now, pass_ctx


@cli.command("run")
@click.option("--now", "now_text", default=None, help="Pretend it is this ISO 8601 moment.")
@click.option("--no-fetch", is_flag=True, help="Use what is stored; do not fetch sources.")
@config_option
@pass_ctx
def run_command(ctx: Context, now_text: str | None, no_fetch: bool) -> None:
    """Run one tick: fetch, select due subscribers, score, render, send, record."""
    from digest.pipeline import TickFailed, run_tick
    from digest.report import print_tick, send_progress

    try:
        with send_progress() as progress:
            now = parse_now(now_text)
            report = run_tick(ctx.settings, now=now, fetch=not no_fetch, progress=progress)
    except TickFailed as exc:
        raise click.ClickException(str(exc)) from None
    print_tick(report)


@cli.command("send")
@click.option("--dry-run", is_flag=True, help="Render pending digests into the outbox; no SMTP.")
@config_option
@pass_ctx
def send_command(ctx: Context, dry_run: bool) -> None:
    """Send the deliveries waiting in the queue (or render them with --dry-run)."""
    from digest.delivery import deliver, utcnow, worker_id
    from digest.delivery import dry_run as render_only
    from digest.mailer import SmtpUnavailable
    from digest.store import deliveries as delivery_store

    sessions = ctx.sessions()
    with db.session_scope(sessions) as session:
        ids = delivery_store.pending_ids(session, utcnow())
    if dry_run:
        paths = render_only(ctx.settings, ids, sessions=sessions)
        click.echo(f"rendered {len(paths)} digests into {ctx.settings.outbox_dir}/ (nothing sent)")
        return
    try:
        stats = deliver(ctx.settings, ids, worker=worker_id(), sessions=sessions)
    except SmtpUnavailable as exc:
        message = f"cannot reach the SMTP server: {exc}; deliveries stay queued"
        raise click.ClickException(message) from None
    click.echo(
        f"sent {stats.sent}, retry {stats.retry}, bounced {stats.bounced}, failed {stats.failed}"
    )


@cli.command("schedule")
@config_option
@pass_ctx
def schedule_command(ctx: Context) -> None:
    """Run the scheduler: fetch on the sources' schedule, tick every few minutes."""
    from digest.schedule import run_forever

    run_forever(ctx.settings)


@cli.command("demo")
@config_option
@pass_ctx
def demo_command(ctx: Context) -> None:
    """Run one whole day offline on the bundled sample data; emails land in outbox/."""
    from digest.demo import run_demo
    from digest.report import print_demo

    print_demo(run_demo(ctx.settings, Path.cwd()))


@cli.command("bench")
@click.option(
    "--json",
    "json_file",
    type=FILE,
    default=None,
    help="Also write the figures as JSON.",
)
@click.option("--quick", is_flag=True, help="Smaller sizes, for a fast look (targets need full).")
@click.option("--only", multiple=True, help="Run only these areas (sources, ranking, ...).")
@config_option
def bench_command(json_file: Path | None, quick: bool, only: tuple[str, ...]) -> None:
    """Measure every performance target; print each beside its target and naive baseline."""
    from digest.bench import AREAS, print_table, run_all, write_json

    figures = run_all(list(only) or AREAS, quick)
    print_table(figures)
    if json_file:
        write_json(figures, json_file)


@cli.command("mailcatcher")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
@click.option(
    "--dir",
    "directory",
    type=DIRECTORY,
    default=Path("outbox"),
    show_default=True,
    help="Where to write .eml and .html.",
)
@click.option("--discard", is_flag=True, help="Accept and drop messages (a sink for benchmarks).")
def mailcatcher_command(host: str, port: int, directory: Path, discard: bool) -> None:
    """Run a local SMTP server that writes every message to a folder (a dev inbox)."""
    from digest.outbox import serve_forever

    click.echo(f"listening on {host}:{port}, writing to {'nowhere' if discard else directory}/")
    try:
        serve_forever(host, port, None if discard else directory)
    except KeyboardInterrupt:
        pass
