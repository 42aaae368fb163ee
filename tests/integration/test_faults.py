"""Fault injection (issues 11 and 19), small: two runs of a rollout to 2,000 installations
(half need consent) on a real worker, beat, Redis, PostgreSQL and SMTP server. Run 1: three
SIGKILLs of the worker, the rollouts queue lost, the database connections cut; run 2: three
SIGKILLs and Redis killed and restarted (everything queued in it lost). When the rollout ends,
every installation was offered the version exactly once, every automatic upgrade applied
exactly once, and every e-mail reached the SMTP server (a message resent after a crash
carries its first Message-ID).

`make faults` runs it at 10,000 installations, 5 kills, Redis restart and cut connections,
ten times, and prints the table (FAULT_* variables: tests/integration/faults.py)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings

from tests.integration.faults import FaultPlan, figures, run_faults, table_header, table_row
from tests.integration.processes import ROOT

RUNS = int(os.environ.get("FAULT_RUNS", "2"))
TABLE_FILE = ROOT / "var" / "faults-table.txt"


@pytest.fixture
def catalogue_scopes(transactional_db):
    from tests.factories import ScopeFactory

    ScopeFactory(name="read:jira-work", sensitivity=1)


@pytest.mark.parametrize("number", range(1, RUNS + 1))
def test_killed_worker_lost_queue_cut_connections_and_redis_restart_lose_and_double_nothing(
    number, catalogue_scopes, smtp_server, tmp_path, capsys
):
    odd = number % 2 == 1
    plan = FaultPlan.from_env(
        installations=2000, kills=3, lose_queue=odd, terminate_db=odd, restart_redis=not odd, bound_seconds=150
    )
    run = run_faults(plan, smtp_server, tmp_path)
    fig = figures(run, smtp_server)
    row = table_row(number, run, fig)
    if number == 1:
        TABLE_FILE.write_text(table_header() + "\n")
    with TABLE_FILE.open("a") as table:
        table.write(row + "\n")
    with capsys.disabled():
        print(f"\nfault run {number} (FAULT_SEED={plan.seed}):\n" + "\n".join(run.log))
        print(table_header() + "\n" + row)

    assert run.finished, f"not done within {plan.bound_seconds:.0f} s (FAULT_SEED={plan.seed}): {fig}"
    assert run.kills_during_work >= min(1, plan.kills)
    n = plan.installations
    assert fig["installations"] == n
    assert (fig["offered_once"], fig["offered_never"], fig["offered_twice"]) == (n, 0, 0)
    assert fig["requests"] == n // 2
    assert (fig["applied"], fig["applied_twice"], fig["applied_without_row"]) == (n // 2, 0, 0)
    assert fig["on_v2"] == n // 2
    assert (fig["consent_lost"], fig["applied_mail_lost"], fig["doubled"], fig["strangers"]) == (0, 0, 0, 0)
    # Only a message in flight when its sender died (or lost its connection) can arrive again,
    # and then under its first Message-ID: one per sender thread of the worker (OUTBOX_SENDERS).
    faults = run.kills_during_work + run.db_terminated + run.redis_restarts
    assert fig["redelivered"] <= faults * max(1, django_settings.OUTBOX_SENDERS)
