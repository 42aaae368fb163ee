"""factory_boy factories for every model. Versions are built through the same
fields the services fill; use the services in tests that are about behaviour."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Max

from marketplace.models import HostProduct, Listing, Scope, Vendor, VendorMembership
from upgrades.models import Site, SiteAdmin
from versions.models import Version


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ReviewerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"reviewer{n}")
    is_staff = True

    @factory.post_generation
    def review_permission(obj, create, extracted, **kwargs):
        if create:
            obj.user_permissions.add(
                Permission.objects.get(codename="review_version", content_type__app_label="versions")
            )


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Vendor {n}")
    slug = factory.Sequence(lambda n: f"vendor-{n}")
    contact_email = factory.Sequence(lambda n: f"team{n}@vendor.example.com")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorMembership

    vendor = factory.SubFactory(VendorFactory)
    user = factory.SubFactory(UserFactory)
    role = "developer"


class HostProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HostProduct
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"product-{n}")
    name = factory.LazyAttribute(lambda p: p.key.title())


class ScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scope
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"read:data-{n}")
    sensitivity = 1


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    key = factory.Sequence(lambda n: f"app-{n}")
    name = factory.Sequence(lambda n: f"App {n}")
    summary = "An app"
    vendor = factory.SubFactory(VendorFactory)
    scheme = "manual"
    pricing = "free"


class VersionFactory(factory.django.DjangoModelFactory):
    """A version row in any state (bypasses the services: for setting up fixtures)."""

    class Meta:
        model = Version

    listing = factory.SubFactory(ListingFactory)
    number = factory.Sequence(lambda n: f"1.0.{n}")
    build_number = factory.LazyAttribute(
        lambda o: (Version.objects.filter(listing=o.listing).aggregate(m=Max("build_number"))["m"] or 0) + 1
    )
    update_notes = "Bug fixes."
    scopes = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        state = kwargs.pop("state", "draft")
        obj = model_class(*args, **kwargs)
        # The state field is protected: fixtures set it the way a migration would.
        obj.__dict__["state"] = state
        obj.save()
        return obj


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    host_product = factory.SubFactory(HostProductFactory, key="jira", name="Jira")
    host_version = "9.4.0"
    time_zone = "UTC"


class SiteAdminFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteAdmin

    site = factory.SubFactory(SiteFactory)
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda a: a.user.email if a.user else "admin@example.com")


def verified(user):
    """Mark the user's address verified, as following allauth's e-mailed link does (returns the user)."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
    )
    return user


def unverified(user):
    """Record the user's address as typed at sign-up and not verified yet (returns the user)."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email.lower(), defaults={"verified": False, "primary": True}
    )
    return user
