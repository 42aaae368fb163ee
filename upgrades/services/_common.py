"""Shared by the service modules: enqueue this app's tasks after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def _on_commit_delay(task_path: str, *args: Any) -> None:
    """Enqueue a task of this app after the surrounding transaction commits."""

    def enqueue() -> None:
        from upgrades import tasks

        getattr(tasks, task_path).delay(*args)

    transaction.on_commit(enqueue)
