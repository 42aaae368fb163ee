from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: errors, the audit log, token authentication, e-mail sending, health."""

    name = "core"
    verbose_name = "Portal"
