from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People: profiles, personal API tokens, the verified-address and two-factor rules, invitations' links.

    Sits just above core: marketplace (vendor invitations) and upgrades (site
    invitations) build on it; django-allauth does sign-up, sign-in, e-mail
    verification, password reset, two-factor authentication and sessions.
    """

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (housekeeping: the session's time zone)
