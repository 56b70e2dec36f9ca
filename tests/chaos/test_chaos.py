"""The chaos run as a test (slow: select with `-m slow`)."""

import pytest

from bench import chaos


@pytest.mark.slow
def test_a_minute_of_killed_workers_and_backends_loses_and_doubles_nothing():
    report = chaos.run(60)

    assert report.worker_kills >= 3
    assert report.backend_kills >= 3
    assert report.operations > 1000
    assert report.statuses[201] > 0
    assert report.violations == []
