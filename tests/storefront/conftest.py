import pytest


@pytest.fixture
def store(db):
    from tests.storefront.world import make_store

    return make_store()
