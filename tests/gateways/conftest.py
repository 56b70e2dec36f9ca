"""Gateway fakes as fixtures for the adapter tests."""

from tests.fakes.portone import portone, portone_server  # noqa: F401 (fixtures)
