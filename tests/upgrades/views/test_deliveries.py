"""The callbacks and webhooks pages: the vendor's per listing, a delivery, a site admin's per installation."""

from __future__ import annotations

import re

import pytest

from tests.factories import UserFactory
from tests.upgrades.world import make_world
from upgrades import services
from upgrades.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def hooked(catalogue, app_server, django_capture_on_commit_callbacks):
    app_server.fail_first["/installed"] = 100
    world = make_world(sites=1)
    world.listing.lifecycle_urls = {"installed": app_server.url("/installed")}
    world.listing.save()
    installation = world.installations[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.lifecycle_event_enqueue(installation=installation, event="installed")
    delivery = Delivery.objects.get(installation=installation)
    delivery.state, delivery.attempts = "failed", delivery.max_attempts  # as after its last retry
    delivery.save()
    return world, installation, delivery


def test_vendor_page_shows_urls_endpoints_and_the_log_with_the_answer(client, hooked):
    world, _, delivery = hooked
    client.force_login(world.vendor_user)
    page = client.get(f"/portal/listings/{world.listing.key}/deliveries/")
    html = page.content.decode()
    assert page.status_code == 200
    assert delivery.url in html and "HTTP 500" in html and "failing on purpose" in html
    assert "Failed for good" in html and ">Retry<" in html
    assert (
        client.get(f"/portal/listings/{world.listing.key}/deliveries/?state=succeeded")
        .content.decode()
        .count("data-delivery=")
        == 0
    )
    detail = client.get(f"/portal/deliveries/{delivery.pk}/").content.decode()
    assert str(delivery.delivery_id) in detail and "sharedSecret" not in detail


def test_creating_an_endpoint_shows_its_secret_once(client, hooked):
    world, _, _ = hooked
    client.force_login(world.vendor_user)
    page = client.post(
        f"/portal/listings/{world.listing.key}/webhooks/",
        {"url": "https://hooks.example.com/market", "events": ["version.published", "rollout.halted"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert page.status_code == 200 and endpoint.secret in page.content.decode()
    again = client.get(f"/portal/listings/{world.listing.key}/deliveries/").content.decode()
    assert endpoint.secret not in again and "https://hooks.example.com/market" in again


def test_bad_endpoint_input_is_shown_next_to_its_field_and_saves_nothing(client, hooked):
    world, _, _ = hooked
    client.force_login(world.vendor_user)
    page = client.post(
        f"/portal/listings/{world.listing.key}/webhooks/",
        {"url": "gopher://x.example.com/", "events": ["version.published"]},
    )
    html = page.content.decode()
    assert page.status_code == 400 and not WebhookEndpoint.objects.exists()
    field = re.search(r'id="field-url".*?</div>', html, re.S)
    assert field is not None and "errorlist" in field.group(0) and "Only http and https" in field.group(0)
    none = client.post(f"/portal/listings/{world.listing.key}/webhooks/", {"url": "https://x.example.com/"})
    html = none.content.decode()
    events = html[html.index('id="field-events"') :]
    assert none.status_code == 400 and "Choose at least one event" in events[: events.index("</fieldset>")]


def test_lifecycle_urls_form_refuses_private_addresses_next_to_the_field(client, hooked, settings):
    settings.DESCRIPTOR_ALLOW_LOOPBACK = False
    world, _, _ = hooked
    client.force_login(world.vendor_user)
    page = client.post(
        f"/portal/listings/{world.listing.key}/lifecycle-urls/",
        {"installed": "http://192.168.1.10/installed", "uninstalled": ""},
    )
    html = page.content.decode()
    assert page.status_code == 400 and "private address" in html
    world.listing.refresh_from_db()
    assert world.listing.lifecycle_urls["installed"].startswith("http://127.0.0.1")
    ok = client.post(
        f"/portal/listings/{world.listing.key}/lifecycle-urls/", {"installed": "https://app.example.com/installed"}
    )
    world.listing.refresh_from_db()
    assert ok.status_code == 302 and world.listing.lifecycle_urls == {"installed": "https://app.example.com/installed"}


def test_site_admin_retries_installed_and_the_app_is_confirmed(
    client, hooked, app_server, django_capture_on_commit_callbacks
):
    world, installation, delivery = hooked
    admin = world.admins[0].user
    client.force_login(admin)
    page = client.get(f"/upgrades/sites/{installation.site_id}/installations/{installation.pk}/deliveries/")
    assert page.status_code == 200 and ">Retry<" in page.content.decode()
    app_server.fail_first["/installed"] = 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/portal/deliveries/{delivery.pk}/redeliver/")
    installation.refresh_from_db()
    assert installation.app_status == "confirmed"


def test_other_people_see_nothing(client, hooked):
    world, installation, delivery = hooked
    client.force_login(UserFactory())
    assert client.get(f"/portal/listings/{world.listing.key}/deliveries/").status_code == 404
    assert client.get(f"/portal/deliveries/{delivery.pk}/").status_code == 404
    assert client.post(f"/portal/deliveries/{delivery.pk}/redeliver/").status_code == 404
    url = f"/upgrades/sites/{installation.site_id}/installations/{installation.pk}/deliveries/"
    assert client.get(url).status_code == 404
    delivery.refresh_from_db()
    assert delivery.state == "failed"
