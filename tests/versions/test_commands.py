"""Management commands: versions_check (no database) and seed_demo."""

import pytest
from django.core.management import call_command

from versions.models import State, Version


def run_check(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        call_command("versions_check", *args)
        raise SystemExit(0)
    return exc.value.code, capsys.readouterr().out.splitlines()


def test_versions_check_ok_and_invalid_lines_and_exit_code(capsys):
    code, lines = run_check(capsys, "1.0.0", "1.0", "1.002.3")
    assert code == 1
    assert lines == [
        "1.0.0: ok",
        "1.0: invalid: missing PATCH number: write MAJOR.MINOR.PATCH, for example 1.2.0",
        "1.002.3: invalid: leading zero in MINOR",
    ]


def test_versions_check_all_valid_exits_zero_and_sorts(capsys):
    code, lines = run_check(
        capsys, "--sort", "1.0.0", "1.0.0-beta.11", "1.0.0-alpha", "1.0.0-beta.2", "1.2.3-stash", "1.2.3"
    )
    assert code == 0
    assert lines[lines.index("sorted:") + 1 :] == [
        "1.0.0-alpha",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0",
        "1.2.3-stash",
        "1.2.3",
    ]


def test_versions_check_sort_skips_invalid_numbers(capsys):
    code, lines = run_check(capsys, "--sort", "2.0.0", "bad", "1.0.0")
    assert code == 1
    assert lines[-3:] == ["sorted:", "1.0.0", "2.0.0"]


def test_versions_check_ocp_scheme(capsys):
    code, lines = run_check(capsys, "--scheme", "ocp", "1.2.3-internal", "1.2.3-beta-2", "0.0.1-dev.1")
    assert code == 1
    assert lines[0].startswith("1.2.3-internal: invalid: pre-release tag 'internal' is not allowed")
    assert lines[1].startswith("1.2.3-beta-2: invalid:") and "'.'" in lines[1]
    assert lines[2] == "0.0.1-dev.1: ok"


@pytest.mark.django_db
def test_seed_demo_creates_every_state_and_is_idempotent(capsys):
    call_command("seed_demo")
    states = set(Version.objects.values_list("state", flat=True))
    assert states == {s.value for s in State}
    count = Version.objects.count()
    call_command("seed_demo")
    assert Version.objects.count() == count
    assert "already present" in capsys.readouterr().out
    from django.contrib.auth import authenticate

    assert authenticate(username="vendor", password="vendor-demo-pass") is not None
    reviewer = authenticate(username="reviewer", password="reviewer-demo-pass")
    assert reviewer is not None and reviewer.has_perm("versions.review_version")
    assert authenticate(username="admin", password="admin-demo-pass").is_superuser


@pytest.mark.django_db
def test_seed_demo_links_follow_the_portal_base_url(capsys, settings, tmp_path):
    settings.PORTAL_VAR_DIR = str(tmp_path)
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8200"
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8200/" in out and ":8000" not in out
    from marketplace.models import Listing

    assert Listing.objects.get(key="demo-connect-app").descriptor_url.startswith("http://127.0.0.1:8200/")
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8300"  # the portal moved: a new seed follows it
    call_command("seed_demo")
    assert Listing.objects.get(key="demo-connect-app").descriptor_url.startswith("http://127.0.0.1:8300/")
    assert ":8200" not in capsys.readouterr().out
