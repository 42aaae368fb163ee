"""Every model of the portal's apps is in the Django admin (its own page, or inline on
its parent's page), and every admin page opens."""

import os

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from tests.factories import UserFactory

PORTAL_APPS = ["marketplace", "versions", "reviews", "upgrades", "mirror"]
MODELS = [m for app in PORTAL_APPS for m in apps.get_app_config(app).get_models()]
INLINE_MODELS = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_model_is_in_the_admin(model):
    assert model in admin.site._registry or model in INLINE_MODELS, f"{model._meta.label} is not in the admin"


@pytest.mark.django_db
def test_every_changelist_and_change_page_opens_for_a_superuser(client):
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)  # rows to render
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model, model_admin in admin.site._registry.items():
        app, name = model._meta.app_label, model._meta.model_name
        response = client.get(reverse(f"admin:{app}_{name}_changelist"))
        assert response.status_code == 200, f"{model._meta.label} changelist: {response.status_code}"
        obj = model_admin.get_queryset(response.wsgi_request).first()
        if obj is not None:
            response = client.get(reverse(f"admin:{app}_{name}_change", args=[obj.pk]))
            assert response.status_code == 200, f"{model._meta.label} change page: {response.status_code}"
