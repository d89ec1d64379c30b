"""Papers' commands: ingest, papers, fetch, rank, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from digest import db
from digest.cli.base import DIRECTORY, FILE, Context, cli, config_option, pass_ctx, require_schema


@cli.command("ingest")
@click.argument("files", nargs=-1, required=True, type=FILE)
@config_option
@pass_ctx
def ingest_command(ctx: Context, files: tuple[Path, ...]) -> None:
    """Load recorded feed files (arXiv RSS/Atom/API, HF daily papers, JSON lines)."""
    from datetime import UTC, datetime

    from digest.ingest import ingest_files
    from digest.poll import encode_new_papers
    from digest.sources_report import print_ingest

    require_schema(ctx)
    now = datetime.now(UTC)
    reports = ingest_files(ctx.sessions(), files, now)
    print_ingest(reports)
    encode_new_papers(ctx.settings, ctx.sessions(), now)
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

    require_schema(ctx)
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

    require_schema(ctx)
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


@cli.command("rank")
@click.option(
    "--papers",
    "papers_file",
    required=True,
    help="Candidate papers (JSON lines).",
    type=FILE,
)
@click.option(
    "--profile",
    "profile_file",
    type=FILE,
    help="One profile (TOML, or JSON with a .json suffix).",
)
@click.option(
    "--profiles",
    "profiles_file",
    type=FILE,
    help="Many profiles, one JSON object per line with an id.",
)
@click.option(
    "--history",
    "history_file",
    type=FILE,
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
@pass_ctx
def rank_command(
    ctx: Context,
    papers_file: Path,
    profile_file: Path | None,
    profiles_file: Path | None,
    history_file: Path | None,
    top_k: int | None,
) -> None:
    """Rank papers for one profile or many, without a database; JSON out."""
    import json

    from digest.ranking import files, rank
    from digest.ranking.semantic import load_embedder

    if (profile_file is None) == (profiles_file is None):
        raise click.UsageError("give exactly one of --profile or --profiles")
    try:
        papers = files.load_papers(papers_file)
        history = files.load_papers(history_file) if history_file else []
        if profile_file is not None:
            profiles = [files.load_profile(profile_file)]
        else:
            assert profiles_file is not None  # exactly one was given, checked above
            profiles = files.load_profiles(profiles_file)
    except files.RankInputError as exc:
        raise click.ClickException(str(exc)) from None
    results = rank(
        papers, profiles, history=history, top_k=top_k, embed=load_embedder(ctx.settings)
    )
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
    type=DIRECTORY,
    default=None,
    help="Relevance dev set directory (default: ../shared/eval-dev).",
)
@click.option(
    "--semantic/--no-semantic",
    default=None,
    help="With or without sentence embeddings (default: the `semantic` setting, if installed).",
)
@config_option
@pass_ctx
def eval_command(ctx: Context, data_dir: Path | None, semantic: bool | None) -> None:
    """Measure ranking quality on the relevance dev set, beside two baselines."""
    from digest.eval import DevSetError, default_data_dir, evaluate, format_table
    from digest.ranking.semantic import available, load_embedder

    if semantic and not available():
        raise click.ClickException(
            "--semantic needs the [semantic] extra: pip install torch==2.13.0 -e '.[semantic]'"
        )
    embed = load_embedder(ctx.settings, semantic)
    click.echo(f"semantic embeddings: {'on' if embed else 'off'}")
    try:
        click.echo(format_table(evaluate(data_dir or default_data_dir(), embed)))
    except DevSetError as exc:
        raise click.ClickException(str(exc)) from None
