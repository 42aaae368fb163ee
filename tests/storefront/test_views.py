"""The storefront's pages: browse, search, filters, the listing page and Install."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from tests.factories import UserFactory
from tests.storefront.world import many_listings, publish, store_listing
from upgrades.models import Installation, Licence

pytestmark = pytest.mark.django_db

CATALOGUE = "/apps/"


def names(response) -> list[str]:
    return [listing.name for listing in response.context["page"]]


def test_anyone_browses_the_catalogue_with_a_result_count(client, store):
    response = client.get(CATALOGUE)
    assert response.status_code == 200
    assert names(response) == ["Timesheets Pro", "Wiki Glossary"]
    assert "2 apps" in response.content.decode()


def test_search_finds_the_start_of_a_word(client, store):
    response = client.get(CATALOGUE, {"q": "time"})
    assert names(response) == ["Timesheets Pro"]
    response = client.get(CATALOGUE, {"q": "glossary definitions"})
    assert names(response) == ["Wiki Glossary"]


def test_search_covers_the_vendor_name(client, store):
    response = client.get(CATALOGUE, {"q": store.wiki.vendor.name})
    assert "Wiki Glossary" in names(response)


def test_a_search_with_filters_and_no_results_suggests_removing_the_filters(client, store):
    response = client.get(CATALOGUE, {"q": "glossary", "product": "jira"})
    body = response.content.decode()
    assert response.status_code == 200 and names(response) == []
    assert "Try removing filters" in body


def test_filters_by_product_category_and_price(client, store):
    from tests.factories import ListingFactory  # noqa: F401 - the world made the listings

    assert names(client.get(CATALOGUE, {"product": "confluence"})) == ["Wiki Glossary"]
    store.timesheets.pricing = "paid"
    store.timesheets.save()
    assert names(client.get(CATALOGUE, {"pricing": "paid"})) == ["Timesheets Pro"]


def test_a_bad_filter_value_is_a_400_naming_the_field_and_shows_nothing(client, store):
    response = client.get(CATALOGUE, {"product": "no-such-product", "sort": "sideways"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_product_error"' in body and 'id="id_sort_error"' in body
    assert names(response) == []


def test_what_a_customer_may_not_see_does_not_show(client, store):
    archived = store_listing("Archived App", products=[store.jira])
    publish(archived)
    archived.archived_at = archived.created_at
    archived.save()
    draft_only = store_listing("Draft Only", products=[store.jira])
    publish(draft_only).__class__.objects.filter(listing=draft_only).update(state="draft")
    nightly = store_listing("Nightly OCP", products=[store.jira], scheme="ocp")
    publish(nightly, number="0.1.0-dev.1", channel="dev")
    beta = store_listing("Beta OCP", products=[store.jira], scheme="ocp")
    publish(beta, number="1.0.0-beta.1", channel="beta")
    shown = names(client.get(CATALOGUE))
    assert shown == ["Timesheets Pro", "Wiki Glossary"]
    assert client.get("/apps/nightly-ocp/").status_code == 404
    assert client.get("/apps/beta-ocp/").status_code == 404


def test_a_private_listing_shows_only_to_its_allowed_sites_admins(client, store):
    private = store_listing("Private Connector", products=[store.jira], visibility="private")
    publish(private)
    private.allowed_sites.set([store.jira_site])
    assert "Private Connector" not in names(client.get(CATALOGUE))
    assert client.get("/apps/private-connector/").status_code == 404
    client.force_login(UserFactory())
    assert "Private Connector" not in names(client.get(CATALOGUE))
    client.force_login(store.admin)
    assert "Private Connector" in names(client.get(CATALOGUE))
    assert client.get("/apps/private-connector/").status_code == 200


def test_the_listing_page_shows_scopes_in_plain_language_history_and_installs(client, store):
    store.timesheets.versions.update(state="superseded")
    publish(store.timesheets, number="1.1.0", update_notes="Faster exports.", scopes=["write:jira-work"])
    response = client.get("/apps/timesheets-pro/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Create and edit issues and worklogs" in body and "write:jira-work" in body
    assert "Faster exports." in body and "1.0.0" in body
    assert "<strong>time</strong>" in body  # the description's Markdown, rendered
    assert "0 active installations" in body
    assert "Sign in to install" in body


def test_the_install_page_greys_out_incompatible_sites_with_the_reason(client, store):
    client.force_login(store.admin)
    response = client.get("/apps/timesheets-pro/install/")
    body = response.content.decode()
    choices = {c["site"].name: c for c in response.context["choices"]}
    assert set(choices) == {"Customer Jira", "Customer Wiki"}  # never another customer's site
    assert choices["Customer Jira"]["available"]
    assert not choices["Customer Wiki"]["available"]
    assert choices["Customer Wiki"]["reason"] == "Timesheets Pro runs on Jira, not on Confluence"
    assert "Not available: Timesheets Pro runs on Jira, not on Confluence" in body
    assert f'value="{store.confluence_site.pk}" disabled' in body


def test_install_records_scopes_installer_and_audit_then_refuses_a_second_time(client, store):
    client.force_login(store.admin)
    response = client.post("/apps/timesheets-pro/install/", {"site": store.jira_site.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"/upgrades/sites/{store.jira_site.pk}/#apps")
    installation = Installation.objects.get(site=store.jira_site, listing=store.timesheets)
    assert installation.granted_scopes == ["read:jira-work", "write:jira-work"]
    assert installation.installed_by == store.admin and installation.state == "active"
    event = AuditEvent.objects.get(action="installation.install", object_id=installation.pk)
    assert event.actor_id == store.admin.pk and event.to_state == "active"
    response = client.post("/apps/timesheets-pro/install/", {"site": store.jira_site.pk})
    assert response.status_code == 409
    assert "already installed on Customer Jira; nothing changed" in response.content.decode()
    assert Installation.objects.count() == 1


@pytest.mark.parametrize(
    ("site_attr", "status", "message"),
    [
        ("confluence_site", 409, "Timesheets Pro runs on Jira, not on Confluence; nothing changed."),
        ("other_site", 404, "No such site among the sites you administer."),
    ],
)
def test_install_on_an_incompatible_or_foreign_site_changes_nothing(client, store, site_attr, status, message):
    client.force_login(store.admin)
    response = client.post("/apps/timesheets-pro/install/", {"site": getattr(store, site_attr).pk})
    assert response.status_code == status
    assert message in response.content.decode()
    assert not Installation.objects.exists() and not AuditEvent.objects.filter(action="installation.install").exists()


@pytest.mark.parametrize("raw", ["", "abc", "١٢", "9" * 40])
def test_install_with_a_malformed_site_is_a_400_naming_the_field(client, store, raw):
    client.force_login(store.admin)
    response = client.post("/apps/timesheets-pro/install/", {"site": raw})
    assert response.status_code == 400
    assert "Site: choose one of your sites." in response.content.decode()
    assert not Installation.objects.exists()


def test_installing_a_version_the_site_host_is_too_old_for_says_which_versions(client, store):
    store.jira_site.host_version = "8.2.0"
    store.jira_site.save()
    client.force_login(store.admin)
    response = client.post("/apps/timesheets-pro/install/", {"site": store.jira_site.pk})
    assert response.status_code == 409
    assert "Timesheets Pro supports Jira 9.0 or later, not Jira 8.2.0" in response.content.decode()


def test_a_paid_app_starts_a_trial_licence(client, store):
    paid = store_listing("Paid Reports", products=[store.jira], pricing="paid")
    publish(paid, pricing="paid")
    client.force_login(store.admin)
    client.post("/apps/paid-reports/install/", {"site": store.jira_site.pk})
    licence = Licence.objects.get(installation__site=store.jira_site)
    assert licence.state == "trial" and (licence.expires_at - licence.started_at).days == 30


def test_the_site_page_lists_its_apps_with_their_buttons(client, store):
    client.force_login(store.admin)
    client.post("/apps/timesheets-pro/install/", {"site": store.jira_site.pk})
    installation = Installation.objects.get()
    body = client.get(reverse("upgrades:site", args=[store.jira_site.pk])).content.decode()
    assert 'data-app="timesheets-pro"' in body and "Running" in body
    for action in ("disable", "uninstall"):
        assert reverse(f"upgrades:installation-{action}", args=[store.jira_site.pk, installation.pk]) in body
    client.post(reverse("upgrades:installation-disable", args=[store.jira_site.pk, installation.pk]))
    body = client.get(reverse("upgrades:site", args=[store.jira_site.pk])).content.decode()
    assert "Disabled by a site admin" in body
    assert reverse("upgrades:installation-enable", args=[store.jira_site.pk, installation.pk]) in body


@pytest.mark.parametrize("count", [10, 300])
def test_the_catalogue_page_costs_the_same_queries_for_10_or_300_listings(
    client, store, count, django_assert_num_queries
):
    many_listings(count, product=store.jira)
    client.force_login(store.admin)
    client.get(CATALOGUE)  # sessions, caches
    # session + user, the product filter's lookup, the count, the form's product and category
    # choices, the page's listings and their host products and categories: 9 for 10 or 300.
    with django_assert_num_queries(9):
        response = client.get(CATALOGUE, {"product": "jira", "sort": "installs"})
    assert response.context["count"] == count + 1
