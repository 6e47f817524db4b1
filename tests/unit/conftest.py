"""Fixtures shared by unit tests: a real stand-in receiver on an ephemeral port."""

from collections.abc import Iterator

import pytest

from keluhan.devstack.receiver import ReceiverClient, RunningReceiver


@pytest.fixture(scope="module")
def running() -> Iterator[RunningReceiver]:
    with RunningReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(running: RunningReceiver) -> ReceiverClient:
    client = ReceiverClient(running.url)
    client.reset()
    return client
