"""The chaos run as a test (slow: select with `-m slow`)."""

import pytest

from bench import chaos


@pytest.mark.slow
def test_two_instances_under_a_minute_of_killed_workers_and_backends_lose_and_double_nothing():
    report = chaos.run(60, instances=2)

    assert report.instances == 2
    assert report.worker_kills >= 3
    assert report.backend_kills >= 3
    assert report.operations > 1000
    assert report.statuses[201] > 0
    assert report.violations == []
