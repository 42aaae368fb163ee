"""The portal's Celery application: workers and beat share this configuration."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def use_structured_logs(logger, **kwargs) -> None:
    """LOG_FORMAT=json: Celery's own handlers (worker, beat, task loggers) write JSON lines too."""
    from django.conf import settings

    if settings.LOG_FORMAT == "json":
        from core.logging import use_json_formatter

        use_json_formatter(logger)


@beat_init.connect
def heartbeat_at_start(sender, **kwargs) -> None:
    """Beat sends a worker heartbeat as it starts (the schedule's first comes an interval later):
    /readyz turns ready seconds after a start, once the path beat -> broker -> worker -> database works."""
    from core.tasks import record_heartbeat

    record_heartbeat.delay()
