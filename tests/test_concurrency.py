"""Two senders at once against one edition: each subscriber still gets exactly one copy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pipeline_support import seed_diffusion_day

pytestmark = pytest.mark.slow
NOW = "2025-03-14T09:00:00+00:00"
PEOPLE = [f"reader{n}@example.org" for n in range(40)]


def test_two_concurrent_runs_send_each_subscriber_one_copy(settings, sessions, smtp):
    now = datetime.fromisoformat(NOW).astimezone(UTC)
    seed_diffusion_day(settings, sessions, PEOPLE, now)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DIGEST_DATABASE_URL": settings.database_url,
        "DIGEST_SMTP_HOST": smtp.host,
        "DIGEST_SMTP_PORT": str(smtp.port),
        "DIGEST_SOURCES_FILE": str(settings.sources_file),
    }
    command = [sys.executable, "-m", "digest", "run", "--no-fetch", "--now", NOW]
    cwd = Path(settings.sources_file).parent
    runs = [
        subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-2000:]
    copies = Counter(r for m in smtp.received for r in m.recipients)
    assert copies == Counter({p: 1 for p in PEOPLE})
