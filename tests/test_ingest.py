"""`ingest` loads recorded files: one row per paper whatever the sources, reruns change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from digest.ingest import ingest_files
from digest.models import Paper, UpvoteSnapshot
from digest.sources import PaperIn
from digest.store import papers as paper_store
from digest.store.papers import UpsertCounts

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2025, 3, 14, 6, 0, tzinfo=UTC)
ABSTRACT = "We study diffusion policies that are pre-trained offline and fine-tuned online."
KEYWORDS = ["diffusion policies", "offline reinforcement learning", "fine-tuning"]


def load(sessions: sessionmaker[Session], *names: str, now: datetime = NOW) -> list:
    return ingest_files(sessions, [FEEDS / name for name in names], now)


def test_it_loads_a_listing_and_reports_counts(sessions: sessionmaker[Session]) -> None:
    [report] = load(sessions, "arxiv-cs.LG.rss")
    assert report.format == "arxiv-rss"
    # Two papers; the duplicate item merges, the replacement of an unknown paper is skipped.
    assert report.counts == UpsertCounts(new=2, updated=0, unchanged=0, skipped=1)


def test_ingest_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    names = ("arxiv-api.atom", "arxiv-cs.LG.rss", "hf-daily-papers.json")
    load(sessions, *names)
    with sessions() as session:
        before = [(p.id, p.updated_at, p.sources) for p in paper_store.list_papers(session)]
    reports = load(sessions, *names, now=NOW + timedelta(hours=1))
    assert all(r.counts and r.counts.new == r.counts.updated == 0 for r in reports)
    with sessions() as session:
        after = [(p.id, p.updated_at, p.sources) for p in paper_store.list_papers(session)]
        snapshots = session.scalar(select(func.count()).select_from(UpvoteSnapshot))
    assert after == before
    assert snapshots == 2


def test_same_paper_from_arxiv_and_hugging_face_is_one_row(session: Session) -> None:
    sessions = sessionmaker(session.get_bind(), expire_on_commit=False)
    load(sessions, "hf-daily-papers.json", "arxiv-cs.LG.rss")
    row = session.get(Paper, "2503.10001")
    assert row is not None
    assert row.sources == ["huggingface", "arxiv"]
    assert row.upvotes == 42 and row.code_url == "https://github.com/example/warm-start"
    assert row.categories == ["cs.LG", "cs.AI"]
    assert (
        session.scalar(select(func.count()).select_from(Paper).where(Paper.id == "2503.10001")) == 1
    )


def test_one_paper_from_three_sources_keeps_each_sources_fields(session: Session) -> None:
    sessions = sessionmaker(session.get_bind(), expire_on_commit=False)
    load(sessions, "arxiv-cs.LG.rss", "hf-daily-papers.json", "arxiv-api.atom")
    row = session.get(Paper, "2503.10001")
    assert row is not None
    assert sorted(row.sources) == ["arxiv", "huggingface"]
    assert row.comment == "12 pages, 4 figures"  # from the API
    assert row.license == "http://creativecommons.org/licenses/by/4.0/"  # from the listing
    assert row.ai_keywords == [
        "diffusion policies",
        "offline reinforcement learning",
        "fine-tuning",
    ]
    assert (
        row.abstract
        == "We study diffusion policies that are pre-trained offline and fine-tuned online."
    )


def test_replacement_updates_a_known_paper(sessions: sessionmaker[Session]) -> None:
    load(sessions, "arxiv-api.atom")
    [report] = load(sessions, "arxiv-cs.LG.rss")
    assert report.counts == UpsertCounts(new=1, updated=2, unchanged=0, skipped=0)
    with sessions() as session:
        old = session.get(Paper, "2410.00003")
        assert old is not None
        assert old.abstract == "A revised abstract."
        assert old.primary_category == "cs.IT"


def test_a_bad_file_is_reported_by_name_and_the_rest_go_on(sessions: sessionmaker[Session]) -> None:
    reports = load(
        sessions, "arxiv-truncated.rss", "empty.json", "missing.rss", "hf-daily-papers.json"
    )
    assert [r.ok for r in reports] == [False, False, False, True]
    assert "malformed XML" in (reports[0].error or "")
    assert reports[1].error == "empty file"
    assert "cannot read" in (reports[2].error or "")
    assert reports[3].counts == UpsertCounts(new=2)


def test_candidate_papers_are_those_first_seen_since(sessions: sessionmaker[Session]) -> None:
    load(sessions, "arxiv-cs.LG.rss")
    load(sessions, "hf-daily-papers.json", now=NOW + timedelta(days=1))
    with sessions() as session:
        recent = paper_store.candidate_papers(session, NOW + timedelta(hours=12))
        everything = paper_store.candidate_papers(session, NOW)
    assert [p.id for p in recent] == ["2503.10005"]
    assert len(everything) == 3


def test_upvote_snapshot_is_stored_when_upvotes_change(sessions: sessionmaker[Session]) -> None:
    load(sessions, "hf-daily-papers.json")
    later = NOW + timedelta(hours=3)
    with sessions.begin() as session:
        paper = paper_store.papers_by_ids(session, ["2503.10001"])[0]
        changed = PaperIn(id=paper.id, title=paper.title, source="huggingface", upvotes=50)
        paper_store.upsert_papers(session, [changed], later)
    with sessions() as session:
        history = paper_store.upvote_history(session, ["2503.10001"])
    assert history["2503.10001"] == [(NOW, 42), (later, 50)]


def run_cli(monkeypatch, database_url: str, *args: str):
    from click.testing import CliRunner

    from digest.cli import cli

    monkeypatch.setenv("DIGEST_DATABASE_URL", database_url)
    return CliRunner().invoke(cli, list(args))


def test_ingest_command_reports_each_file_and_succeeds_if_one_loads(
    monkeypatch, engine, settings
) -> None:
    files = [str(FEEDS / "arxiv-cs.LG.rss"), str(FEEDS / "arxiv-truncated.rss")]
    result = run_cli(monkeypatch, settings.database_url, "ingest", *files)
    assert result.exit_code == 0, result.output
    assert "arxiv-cs.LG.rss: arxiv-rss: 2 new, 0 updated, 0 unchanged" in result.output
    assert "arxiv-truncated.rss: error: malformed XML" in result.output


def test_ingest_command_fails_when_no_file_loads(monkeypatch, engine, settings) -> None:
    result = run_cli(monkeypatch, settings.database_url, "ingest", str(FEEDS / "empty.json"))
    assert result.exit_code != 0
    assert "empty.json: error: empty file; skipped" in result.output
    assert "Traceback" not in result.output


def test_ingest_without_schema_says_what_to_run(monkeypatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'blank.db'}"
    result = run_cli(monkeypatch, url, "ingest", str(FEEDS / "arxiv-cs.LG.rss"))
    assert result.exit_code != 0
    assert "run `digest db upgrade` first" in result.output


def test_papers_jsonl_lists_the_contract_fields_and_reads_back(
    monkeypatch, engine, settings, tmp_path: Path
) -> None:
    import json

    run_cli(monkeypatch, settings.database_url, "ingest", str(FEEDS / "hf-daily-papers.json"))
    result = run_cli(monkeypatch, settings.database_url, "papers", "--format", "jsonl")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["id"] for r in rows} == {"2503.10001", "2503.10005"}
    keys = {"id", "title", "abstract", "authors", "categories", "published", "upvotes", "sources"}
    assert all(keys <= row.keys() for row in rows)
    exported = tmp_path / "papers.jsonl"
    exported.write_text(result.output)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    run_cli(monkeypatch, other, "db", "upgrade")
    again = run_cli(monkeypatch, other, "ingest", str(exported))
    assert "jsonl: 2 new" in again.output


def test_papers_since_filters_by_first_seen(monkeypatch, engine, settings) -> None:
    run_cli(monkeypatch, settings.database_url, "ingest", str(FEEDS / "hf-daily-papers.json"))
    result = run_cli(monkeypatch, settings.database_url, "papers", "--since", "2999-01-01")
    assert "0 papers" in result.output


def test_papers_table_lists_ids_titles_and_sources(monkeypatch, engine, settings) -> None:
    run_cli(monkeypatch, settings.database_url, "ingest", str(FEEDS / "hf-daily-papers.json"))
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli(monkeypatch, settings.database_url, "papers")
    assert result.exit_code == 0
    assert "2503.10005" in result.output and "huggingface" in result.output
    assert "2 papers" in result.output
