"""The `digest` command line: one click group; each command opens its own session at the edge."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from digest import db
from digest.config import ConfigError, Settings, load_settings

log = logging.getLogger("digest")


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

    lists = {key: store.split_list(options.pop(key)) for key in _LIST_OPTIONS}
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
            row = {"id": sub.id, "email": sub.email, "status": sub.status}
            row |= store.settings_of(sub) | {"interests": store.interests_by_kind(sub)}
            if fmt == "jsonl":
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                topics = ", ".join(v for values in row["interests"].values() for v in values)
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


@cli.command("run")
@click.option("--now", "now_text", default=None, help="Pretend it is this ISO 8601 moment.")
@click.option("--no-fetch", is_flag=True, help="Use what is stored; do not fetch sources.")
@config_option
@pass_ctx
def run_command(ctx: Context, now_text: str | None, no_fetch: bool) -> None:
    """Run one tick: fetch, select due subscribers, score, render, send, record."""
    from digest.pipeline import TickFailed, run_tick
    from digest.report import print_tick

    try:
        report = run_tick(ctx.settings, now=_parse_now(now_text), fetch=not no_fetch)
    except TickFailed as exc:
        raise click.ClickException(str(exc)) from None
    print_tick(report)


def _parse_now(text: str | None) -> Any:
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not ISO 8601", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cli.command("send")
@click.option("--dry-run", is_flag=True, help="Render pending digests into the outbox; no SMTP.")
@config_option
@pass_ctx
def send_command(ctx: Context, dry_run: bool) -> None:
    """Send the deliveries waiting in the queue (or render them with --dry-run)."""
    from digest.delivery import deliver, worker_id
    from digest.delivery import dry_run as render_only
    from digest.mailer import SmtpUnavailable
    from digest.store import deliveries as delivery_store

    sessions = ctx.sessions()
    with db.session_scope(sessions) as session:
        ids = delivery_store.pending_ids(session, _parse_now(None) or _utcnow())
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


def _utcnow() -> Any:
    from digest.delivery import utcnow

    return utcnow()


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
    type=click.Path(path_type=Path, dir_okay=False),
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


def _require_schema(ctx: Context) -> None:
    from digest.ingest import SchemaMissing, require_schema

    try:
        require_schema(ctx.engine)
    except SchemaMissing as exc:
        raise click.ClickException(str(exc)) from None


@cli.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@config_option
@pass_ctx
def ingest_command(ctx: Context, files: tuple[Path, ...]) -> None:
    """Load recorded feed files (arXiv RSS/Atom/API, HF daily papers, JSON lines)."""
    from datetime import UTC, datetime

    from digest.ingest import ingest_files
    from digest.sources_report import print_ingest

    _require_schema(ctx)
    reports = ingest_files(ctx.sessions(), files, datetime.now(UTC))
    print_ingest(reports)
    if not any(report.ok for report in reports):
        raise click.ClickException("no file could be loaded")


@cli.command("papers")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Only papers first seen at or after this date (UTC).",
)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="table")
@config_option
@pass_ctx
def papers_command(ctx: Context, since: Any, fmt: str) -> None:
    """List stored papers: id, title, abstract, authors, categories, published, upvotes, sources."""
    from datetime import UTC

    from rich.console import Console

    from digest.sources_report import print_papers
    from digest.store import papers as paper_store

    _require_schema(ctx)
    with db.session_scope(ctx.sessions()) as session:
        papers = paper_store.list_papers(session, since.replace(tzinfo=UTC) if since else None)
    print_papers(papers, fmt, Console())


@cli.command("fetch")
@config_option
@pass_ctx
def fetch_command(ctx: Context) -> None:
    """Fetch every source in the sources file and store what is new."""
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.progress import Progress

    from digest.poll import fetch_all
    from digest.sources_config import load_sources
    from digest.sources_report import fetch_table

    _require_schema(ctx)
    total = len(load_sources(ctx.settings.sources_file))
    if not total:
        raise click.ClickException(f"no sources configured in {ctx.settings.sources_file}")
    console = Console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("fetching sources", total=total)
        results = fetch_all(
            ctx.settings,
            ctx.sessions(),
            datetime.now(UTC),
            on_done=lambda result: progress.advance(task),
        )
    console.print(fetch_table(results.values()))
    if not any(result.ok for result in results.values()):
        raise click.ClickException("every source failed; see the errors above")


@cli.command("mailcatcher")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
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


@cli.command("rank")
@click.option(
    "--papers",
    "papers_file",
    required=True,
    help="Candidate papers (JSON lines).",
    type=click.Path(path_type=Path, dir_okay=False),
)
@click.option(
    "--profile",
    "profile_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="One profile (TOML, or JSON with a .json suffix).",
)
@click.option(
    "--profiles",
    "profiles_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Many profiles, one JSON object per line with an id.",
)
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Earlier papers that liked/disliked ids may refer to (JSON lines).",
)
@click.option(
    "--top",
    "top_k",
    type=click.IntRange(0),
    default=None,
    help="Papers per profile (default: the profile's max_papers).",
)
@config_option
def rank_command(
    papers_file: Path,
    profile_file: Path | None,
    profiles_file: Path | None,
    history_file: Path | None,
    top_k: int | None,
) -> None:
    """Rank papers for one profile or many, without a database; JSON out."""
    import json

    from digest.ranking import files, rank

    if (profile_file is None) == (profiles_file is None):
        raise click.UsageError("give exactly one of --profile or --profiles")
    try:
        papers = files.load_papers(papers_file)
        history = files.load_papers(history_file) if history_file else []
        profiles = (
            [files.load_profile(profile_file)]
            if profile_file
            else files.load_profiles(profiles_file)
        )  # type: ignore[arg-type]
    except files.RankInputError as exc:
        raise click.ClickException(str(exc)) from None
    results = rank(papers, profiles, history=history, top_k=top_k)
    if profile_file:
        click.echo(json.dumps(files.result_rows(results[0]), ensure_ascii=False))
        return
    for profile, ranked in zip(profiles, results, strict=True):
        click.echo(
            json.dumps(
                {"profile": profile.id, "results": files.result_rows(ranked)}, ensure_ascii=False
            )
        )


@cli.command("eval")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Relevance dev set directory (default: ../shared/eval-dev).",
)
@config_option
def eval_command(data_dir: Path | None) -> None:
    """Measure ranking quality on the relevance dev set, beside two baselines."""
    from digest.eval import DevSetError, default_data_dir, evaluate, format_table

    try:
        click.echo(format_table(evaluate(data_dir or default_data_dir())))
    except DevSetError as exc:
        raise click.ClickException(str(exc)) from None


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
