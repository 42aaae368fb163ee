from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: errors, the audit log, token authentication, e-mail sending, health."""

    name = "core"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.models import Field, ForeignObject

        from core.logging import forget_request_id
        from core.lookups import AnyOf

        request_finished.connect(forget_request_id, dispatch_uid="core.forget_request_id")
        # field__any=[...] (core.lookups); relations keep lookups of their own, so they get it too.
        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)
