from tests.e2e.conftest import world  # noqa: F401 - the e2e world fixture, for the service tests
