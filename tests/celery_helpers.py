"""Helpers for tests that point the Celery app at another broker for a while."""

from __future__ import annotations


def reset_celery_connections() -> None:
    """Forget pooled broker connections so the next publish uses the current broker_url.

    kombu keeps pools in a global registry; a pool closed or bound to the previous
    broker would otherwise be reused ("Acquire on closed pool").
    """
    from kombu import pools

    from config.celery import app

    if app._pool is not None:
        app._pool.force_close_all()
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
