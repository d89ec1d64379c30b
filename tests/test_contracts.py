"""The commands and settings outside tools rely on (DESIGN section 8) exist and match the README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()

COMMANDS = {
    ("ingest",): ["FILE"],
    ("papers",): ["--since", "--format"],
    ("subscribers", "add"): [
        "--keywords",
        "--categories",
        "--authors",
        "--timezone",
        "--send-time",
        "--confirmed",
    ],
    ("subscribers", "list"): ["--format"],
    ("subscribers", "export"): ["EMAIL"],
    ("subscribers", "delete"): ["EMAIL"],
    ("run",): ["--now", "--no-fetch"],
    ("rank",): ["--papers", "--profile", "--profiles", "--history", "--top"],
    ("serve",): ["--host", "--port", "--with-scheduler", "--dev"],
    ("bench",): ["--json"],
    ("db", "upgrade"): [],
    ("send",): ["--dry-run"],
    ("demo",): [],
    ("fetch",): [],
    ("schedule",): [],
    ("worker",): [],
    ("status",): [],
}
ENV_CONTRACT = [
    "DIGEST_DATABASE_URL",
    "DIGEST_SMTP_HOST",
    "DIGEST_SMTP_PORT",
    "DIGEST_SMTP_USERNAME",
    "DIGEST_SMTP_PASSWORD",
    "DIGEST_SMTP_SECURITY",
    "DIGEST_MAIL_FROM",
    "DIGEST_BASE_URL",
    "DIGEST_SECRET_KEY",
]


@pytest.mark.parametrize("words", sorted(COMMANDS), ids=" ".join)
def test_each_contract_command_exists_with_its_options_and_is_in_the_readme(words):
    result = CliRunner().invoke(cli, [*words, "--help"])
    assert result.exit_code == 0, result.output
    for option in COMMANDS[words]:
        assert option in result.output
        assert option in README
    assert f"digest {' '.join(words)}" in README
    assert "--config" in result.output


@pytest.mark.parametrize("variable", ENV_CONTRACT)
def test_each_contract_setting_is_documented(variable):
    assert f"`{variable}`" in README


def test_an_unreachable_smtp_server_ends_the_run_with_one_line_and_non_zero(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DIGEST_DATABASE_URL": f"sqlite:///{tmp_path}/d.db",
        "DIGEST_SMTP_PORT": "1",
        "DIGEST_SOURCES_FILE": str(tmp_path / "none.toml"),
    }
    digest = [sys.executable, "-m", "digest"]
    subprocess.run(
        [*digest, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True
    )
    subprocess.run(
        [
            *digest,
            "subscribers",
            "add",
            "a@example.org",
            "--keywords",
            "x",
            "--send-time",
            "00:00",
            "--confirmed",
        ],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    paper = '{"id": "2503.00001", "title": "x marks", "abstract": "x", "published": "2025-03-13"}'
    (tmp_path / "p.jsonl").write_text(paper + "\n")
    subprocess.run(
        [*digest, "ingest", "p.jsonl"], env=env, cwd=tmp_path, check=True, capture_output=True
    )
    result = subprocess.run(
        [*digest, "run", "--no-fetch"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "SMTP" in line]
    assert errors and "stay queued" in errors[-1]


def run_demo(workdir):
    return subprocess.run(
        [sys.executable, "-m", "digest", "demo"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


@pytest.mark.slow
def test_make_demo_runs_and_writes_every_email_to_the_outbox(tmp_path):
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    emails = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(emails) == 5
    assert len(list((tmp_path / "outbox").glob("*.html"))) == 5
    for address in ("ada@", "bo@", "chen@", "dana@", "eli@"):
        assert address in result.stdout
    again = run_demo(tmp_path)
    assert again.returncode == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 5
