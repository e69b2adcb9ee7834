from tests.e2e.conftest import _lore_closed_after_the_test, world  # noqa: F401 - the e2e fixtures, for the service tests
