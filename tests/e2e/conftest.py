"""One real emulator stack per test session: emulators, every function, the receiver, the watcher.

With KELUHAN_E2E_PORT_OFFSET set, the session's stack runs on ports moved by that much, so that a
second e2e session can run beside the first (./scripts/test runs the months-of-history test so)."""

from __future__ import annotations

import os

import pytest

from keluhan.devstack.client import StackClient
from keluhan.devstack.config import EMULATORS_JSON, shifted_copy
from keluhan.devstack.env import function_env
from tests.support.api_calls import check_session

PORT_OFFSET_ENV = "KELUHAN_E2E_PORT_OFFSET"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    from keluhan.devstack.launcher import start_stack

    offset = int(os.environ.get(PORT_OFFSET_ENV) or 0)
    config = shifted_copy(EMULATORS_JSON, tmp_path_factory.mktemp("emulators"), offset) if offset else EMULATORS_JSON
    running = start_stack(config, tmp_path_factory.mktemp("devstack"), timeout_s=150)
    # This process talks to the emulators as the functions do (function tests on real emulators).
    env = function_env(running.config, running.state_dir)
    env.pop("KELUHAN_CLOCK_FILE")  # only the stack's functions follow a test's simulated clock
    os.environ.update(env)
    yield running
    running.stop()
    # What the functions called of Google's APIs, against what Terraform is checked to grant.
    check_session(running.state_dir)


@pytest.fixture(scope="session")
def client(stack) -> StackClient:
    return StackClient(stack.config)


@pytest.fixture(scope="session")
def citizen(client):
    """A signed-in citizen of the Auth emulator: (uid, ID token)."""
    return client.sign_in("warga.e2e@example.com")


@pytest.fixture(scope="session")
def call_center(client):
    """Call Center 112's service identity (custom claims role=channel, channel=call_center_112)."""
    return client.user("cc112.e2e@callcenter.test", {"role": "channel", "channel": "call_center_112"})
