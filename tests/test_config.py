"""Settings: defaults <- TOML <- environment, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import ConfigError, example_toml, load_settings, markdown_table

ROOT = Path(__file__).parent.parent


def test_environment_beats_the_file_which_beats_defaults(tmp_path, monkeypatch):
    config = tmp_path / "digest.toml"
    config.write_text('smtp_host = "mail.example.org"\nsmtp_port = 2525\n')
    monkeypatch.setenv("DIGEST_SMTP_PORT", "587")
    settings = load_settings(config)
    assert settings.smtp_host == "mail.example.org"
    assert settings.smtp_port == 587
    assert settings.smtp_security == "none"


def test_a_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "password"
    secret.write_text("hunter2\n")
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD_FILE", str(secret))
    assert load_settings().smtp_password.get_secret_value() == "hunter2"


def test_an_invalid_value_names_the_key_and_what_is_allowed(monkeypatch):
    monkeypatch.setenv("DIGEST_SMTP_SECURITY", "tls")
    with pytest.raises(ConfigError, match=r"smtp_security \(DIGEST_SMTP_SECURITY\).*'starttls'"):
        load_settings()


def test_an_unknown_key_in_the_file_is_refused(tmp_path):
    config = tmp_path / "digest.toml"
    config.write_text('smtp_hots = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'smtp_hots'"):
        load_settings(config)


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_a_bad_time_zone_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("DIGEST_DEFAULT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="default_timezone.*IANA"):
        load_settings()


def test_the_example_file_documents_every_key_and_loads():
    committed = (ROOT / "config" / "digest.example.toml").read_text()
    assert committed == example_toml()
    load_settings(ROOT / "config" / "digest.example.toml")


def test_the_readme_lists_every_setting():
    assert markdown_table() in (ROOT / "README.md").read_text()
