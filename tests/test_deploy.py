"""deploy/: the Dockerfile, compose.yaml, systemd units and env example, checked without Docker."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from ruamel.yaml import YAML

from digest.cli import cli
from digest.config import Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
GUIDE = DEPLOY.parent / "docs" / "operations.md"
BIN = Path(sys.executable).parent
UNITS = ["digest-web.service", "digest-scheduler.service", "digest-worker.service"]
APP_SERVICES = ["web", "scheduler", "worker"]


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or pytest.fail(f"{name} missing")


def _compose() -> dict:
    return YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text())


def _resolve(args: list[str]) -> click.Command | None:
    """Walk `digest` subcommands along the leading words of an argument list."""
    command: click.Command | None = cli
    for word in args:
        if not isinstance(command, click.Group):
            break
        command = command.commands.get(word)
    return command


def _options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in param.opts}


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_tool("hadolint"), "--failure-threshold", "info", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_runs_as_non_root_and_checks_its_health():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)

    assert re.search(r"python:3\.\d+-slim", dockerfile)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.MULTILINE)
    assert "ENV DIGEST_" not in dockerfile


def test_compose_yaml_follows_the_compose_specification():
    result = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(DEPLOY / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_every_service_with_a_healthcheck():
    services = _compose()["services"]

    for name in [*APP_SERVICES, "postgres", "redis", "mail"]:
        assert name in services, name
        assert services[name]["healthcheck"].get("test"), name
    assert services["migrate"]["command"] == ["db", "upgrade"]


def test_compose_app_services_share_postgres_redis_celery_and_migrate_first():
    services = _compose()["services"]

    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DIGEST_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["DIGEST_BROKER_URL"].startswith("redis://redis:6379")
        assert env["DIGEST_EXECUTOR"] == "celery"
        assert env["DIGEST_SMTP_HOST"] == "mail"
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


def test_compose_and_units_only_run_commands_the_cli_has():
    services = _compose()["services"]
    commands = [services[name]["command"] for name in [*APP_SERVICES, "migrate"]]
    for unit in UNITS:
        text = (DEPLOY / "systemd" / unit).read_text()
        commands += [line.split() for line in re.findall(r"^Exec\w+=\S+/digest (.*)$", text, re.M)]

    for args in commands:
        command = _resolve(args)
        assert command is not None and not isinstance(command, click.Group), args
        used = {arg for arg in args if arg.startswith("--")}
        assert used <= _options(command), args


def test_the_env_example_loads_into_settings(monkeypatch):
    lines = (DEPLOY / "digest.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]

    for key, value in pairs:
        monkeypatch.setenv(key, value.strip('"'))
    settings = load_settings()

    assert settings.smtp_security == "starttls"
    assert settings.mail_from == "Daily papers <digest@example.org>"
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_every_digest_variable_in_the_deploy_files_and_guide_is_a_setting():
    known = {f"DIGEST_{name.upper()}" for name in Settings.model_fields}
    known |= {f"{key}_FILE" for key in known}
    texts = [(DEPLOY / name).read_text() for name in ("compose.yaml", "digest.env.example")]
    texts.append(GUIDE.read_text())

    used = {key for text in texts for key in re.findall(r"\b(DIGEST_[A-Z_]*[A-Z])\b", text)}

    assert used, "no DIGEST_ variables found"
    assert used <= known, sorted(used - known)


@pytest.mark.parametrize("unit", UNITS)
def test_the_systemd_units_pass_systemd_analyze_verify(unit, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # verify insists that ExecStart exists: point the unit at this environment's digest.
    text = (DEPLOY / "systemd" / unit).read_text()
    rendered = tmp_path / unit
    rendered.write_text(text.replace("/opt/digest/venv/bin/digest", str(BIN / "digest")))

    result = subprocess.run([analyze, "verify", str(rendered)], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def _guide_commands() -> list[list[str]]:
    """Every `digest ...` command line in the operator guide's code spans and blocks."""
    text = GUIDE.read_text()
    code = re.findall(r"```\w*\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]+)`", text)
    found = []
    for chunk in code:
        for line in chunk.replace("\\\n", " ").splitlines():
            for match in re.finditer(r"(?:^|[\s/])digest ((?:--config \S+ )?[a-z][^`#]*)", line):
                found.append(match.group(1).split())
    return found


def test_the_operator_guide_only_shows_commands_and_options_the_cli_has():
    commands = _guide_commands()

    assert len(commands) > 10
    for args in commands:
        words = args[2:] if args[0] == "--config" else args
        command = _resolve(words)
        assert command is not None and not isinstance(command, click.Group), args
        used = {arg.split("=")[0] for arg in words if arg.startswith("--")}
        assert used <= _options(command) | {"--config"}, args
