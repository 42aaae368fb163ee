from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data `make run` shows: project wiring on the top floor, it may import every app."""

    name = "demo"
    verbose_name = "Demo data"
