"""The descriptor_diff pre-flight and poll_descriptors commands."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import ListingFactory
from versions.models import Version

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, name, content) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "descriptor_diff", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_descriptor_diff_prints_the_report(tmp_path):
    old = write(tmp_path, "old.json", {"key": "my-app", "scopes": ["read"], "apiVersion": 1})
    new = write(tmp_path, "new.json", '{\n "apiVersion": 2, "key": "my-app", "scopes": ["READ", "write:jira-work"]\n}')
    result = run(old, new, "--from", "1.4.2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "bump: major",
        "next: 2.0.0",
        "reason: API version 1 -> 2",
        "reason: scope added: write:jira-work",
        "consent: required",
    ]


@pytest.mark.django_db  # the command reads the scope catalogue
def test_descriptor_diff_unchanged_and_forge_by_extension(tmp_path):
    old = write(tmp_path, "old.yaml", "app:\n  id: a\npermissions:\n  scopes: [read:jira-work]\n")
    new = write(tmp_path, "new.yaml", "permissions:\n  scopes:\n    - READ:JIRA-WORK\napp: {id: a}\n")
    out = StringIO()
    call_command("descriptor_diff", old, new, stdout=out)
    assert out.getvalue().splitlines() == ["bump: none", "consent: not required"]


def test_descriptor_diff_invalid_descriptor_exits_2(tmp_path):
    old = write(tmp_path, "old.json", {"key": "my-app"})
    new = write(tmp_path, "new.json", '{"key": "my-app",')
    result = run(old, new, "--scheme", "connect")
    assert result.returncode == 2
    assert result.stdout.startswith("error: new descriptor: Invalid JSON")
    changed = run(old, write(tmp_path, "other.json", {"key": "other"}))
    assert changed.returncode == 2
    assert "key changed" in changed.stdout
    missing = run(old, str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and missing.stdout.startswith("error: cannot read")


@pytest.mark.django_db
def test_poll_descriptors_polls_now(descriptor_server):
    url = descriptor_server.serve("/d.json", json.dumps({"key": "acme", "scopes": []}))
    listing = ListingFactory(key="acme-connect", scheme="connect", descriptor_url=url)
    out = StringIO()
    call_command("poll_descriptors", "acme-connect", stdout=out)
    assert out.getvalue().strip() == "acme-connect: version_created (HTTP 200) version 1.0.0 [published]"
    assert Version.objects.get(listing=listing).source == "poll"
