"""/healthz: the database answers, and when a Celery worker last checked in."""

from django.db import connection
from django.http import HttpRequest, JsonResponse

from marketplace.models import WorkerHeartbeat


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = WorkerHeartbeat.objects.filter(name="celery-worker").first()
    return JsonResponse({"status": "ok", "worker_last_seen": beat.last_seen.isoformat() if beat else None})
