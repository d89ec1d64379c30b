"""Settings: defaults <- TOML file <- DIGEST_* environment (+ DIGEST_*_FILE for secrets).

This module is the only place that reads the environment or the config file; everything else
receives the one typed `Settings` object.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_FILE = Path("config/digest.toml")
ENV_PREFIX = "DIGEST_"
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the key and what is allowed."""


class Settings(BaseSettings):
    """Every setting digest reads. TOML keys and DIGEST_* variables mirror these names."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    # Storage
    database_url: str = Field(
        "sqlite:///var/digest.db", description="SQLAlchemy URL (SQLite or postgresql+psycopg)"
    )
    outbox_dir: Path = Field(
        Path("outbox"), description="Where the local SMTP server and --dry-run write .eml/.html"
    )
    sources_file: Path = Field(
        Path("config/sources.toml"), description="The list of paper sources to fetch"
    )

    # Mail
    smtp_host: str = Field("127.0.0.1", description="SMTP server host")
    smtp_port: int = Field(8025, ge=1, le=65535, description="SMTP server port")
    smtp_username: str = Field("", description="SMTP login (empty: no AUTH)")
    smtp_password: SecretStr = Field(
        SecretStr(""), description="SMTP password (or DIGEST_SMTP_PASSWORD_FILE)"
    )
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        "none", description="Transport security"
    )
    smtp_timeout: float = Field(30.0, gt=0, description="Seconds before an SMTP command times out")
    smtp_connections: int = Field(2, ge=1, le=64, description="Parallel SMTP connections")
    send_processes: int = Field(
        0, ge=0, le=64, description="Sender processes for runs of 2,000+ digests (0: one per core)"
    )
    rank_processes: int = Field(
        0, ge=0, le=64, description="Processes ranking over 5,000 due subscribers (0: one per core)"
    )
    smtp_rate_limit: float = Field(
        0.0, ge=0, description="Messages per second across connections (0: unlimited)"
    )
    smtp_max_attempts: int = Field(
        5, ge=1, description="Attempts for a temporary (4xx) failure before giving up"
    )
    bounce_threshold: int = Field(
        1, ge=1, description="Hard bounces (5.1.x) before an address is marked bounced"
    )
    mail_from: str = Field("digest <digest@localhost>", description="From: header of every email")
    list_id: str = Field("Daily papers <daily.digest.localhost>", description="List-Id: header")
    dkim_domain: str = Field("", description="DKIM signing domain (empty: no DKIM)")
    dkim_selector: str = Field("", description="DKIM selector")
    dkim_private_key_file: Path | None = Field(None, description="PEM private key for DKIM")

    # Web
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL used in links in emails")
    secret_key: SecretStr = Field(
        SecretStr("dev-only-insecure-key"), description="Signs links; set a long random value"
    )
    old_secret_keys: list[SecretStr] = Field(
        default_factory=list, description="Previous keys still accepted (rotation)"
    )
    rate_limit_storage: str = Field(
        "memory://", description="Flask-Limiter storage URI (redis://... with several web workers)"
    )
    subscribe_rate_limit: str = Field("10/hour", description="Subscribe requests per IP")
    web_workers: int = Field(2, ge=1, description="gunicorn worker processes for digest serve")

    # Subscribers' defaults
    default_timezone: str = Field("UTC", description="Time zone of new subscribers")
    default_send_time: str = Field(
        "07:00", description="Local send time of new subscribers (HH:MM)"
    )
    default_max_papers: int = Field(
        10, ge=1, le=50, description="Papers per digest for new subscribers"
    )
    default_min_score: float = Field(
        0.12, ge=0, le=1, description="Minimum relevance to be included"
    )
    default_trending_weight: float = Field(
        0.2, ge=0, le=1, description="0: purely personal, 1: what everyone reads"
    )

    # Pipeline
    executor: Literal["inline", "celery"] = Field("inline", description="Where the send step runs")
    broker_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Celery broker (executor = celery)"
    )
    tick_minutes: int = Field(5, ge=1, le=60, description="Scheduler tick interval")
    fetch_minutes: int = Field(60, ge=5, description="Interval between fetches of all sources")
    stale_deadline_hours: float = Field(
        6.0, ge=0, description="How long a send waits for a stale source"
    )
    semantic: bool = Field(
        True, description="Use sentence embeddings when the [semantic] extra is installed"
    )
    embedding_cache: Path = Field(
        Path("var/embeddings.sqlite3"),
        description="Where sentence embeddings are kept, so each paper is encoded once",
    )

    # Fetch
    user_agent: str = Field(
        "digest/0.1 (+https://github.com/digest)", description="User-Agent of every fetch"
    )
    fetch_timeout: float = Field(30.0, gt=0, description="Seconds to connect/read a source")
    fetch_max_bytes: int = Field(
        20_000_000, ge=1024, description="Largest response read from a source"
    )
    arxiv_min_interval: float = Field(3.0, ge=0, description="Seconds between requests to arXiv")

    # Testing
    failpoint: Literal["", "after_claim", "after_250"] = Field(
        "", description="Testing only: the sender kills itself (SIGKILL) at this point"
    )

    # Logs
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")
    log_format: Literal["text", "json"] = Field("text", description="Log line format")

    @field_validator("default_send_time")
    @classmethod
    def _check_hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("use HH:MM, 24-hour clock")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("use an IANA time zone such as Europe/Berlin") from exc
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment > *_FILE secrets > the TOML file (passed as init kwargs) > defaults.
        return env_settings, _FileSecretsSource(settings_cls), init_settings


class _FileSecretsSource(PydanticBaseSettingsSource):
    """Read DIGEST_<KEY>_FILE: the value is the file's content (Docker/systemd secrets)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{ENV_PREFIX}{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        try:
            return Path(path).read_text().strip(), field_name, False
        except OSError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}{field_name.upper()}_FILE: cannot read {path}: {exc}"
            ) from exc

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, name)
            if value is not None:
                found[name] = value
        return found


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from the TOML file (if any), the environment and explicit overrides."""
    values = _read_toml(config_file)
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _read_toml(config_file: Path | None) -> dict[str, Any]:
    path = config_file or DEFAULT_CONFIG_FILE
    if not path.exists():
        if config_file is not None:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return data


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "settings"
        env = f"{ENV_PREFIX}{key.upper()}"
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown setting {key!r}: see config/digest.example.toml for the keys")
        else:
            lines.append(
                f"invalid setting {key} ({env}): {error['msg']}; got {error.get('input')!r}"
            )
    return "\n".join(lines)


def settings_table() -> list[tuple[str, str, str, str]]:
    """Return (key, env var, default, description) for every setting, for docs and checks."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        rows.append(
            (name, f"{ENV_PREFIX}{name.upper()}", _toml_value(default), field.description or "")
        )
    return rows


def example_toml() -> str:
    """The text of config/digest.example.toml: every key, its default and what it does."""
    lines = [
        "# digest settings: every key with its default. Copy to config/digest.toml and edit.",
        "# Each key can also be set by the environment variable DIGEST_<KEY> (which wins),",
        "# and secrets by DIGEST_<KEY>_FILE (a file holding the value).",
        "",
    ]
    for name, _env, default, description in settings_table():
        unset = Settings.model_fields[name].get_default() is None
        lines.append(f"# {description}")
        lines.append(f"{'# ' if unset else ''}{name} = {default}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        return '"/path/to/file"'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def markdown_table() -> str:
    """The README's settings table."""
    rows = ["| key | environment | default | meaning |", "| --- | --- | --- | --- |"]
    for name, env, default, description in settings_table():
        rows.append(f"| `{name}` | `{env}` | `{default}` | {description} |")
    return "\n".join(rows)
