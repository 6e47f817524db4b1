"""Nothing stuck, ever: the pipeline bench at a small size, every fault at once, on the session's stack."""

from __future__ import annotations

import pytest
import requests

from keluhan import topology
from keluhan.cli.bench_pipeline import run_bench
from keluhan.devstack.client import StackClient
from keluhan.devstack.processes import wait_until


def _all_functions_answer(config) -> bool:
    def answers(url: str) -> bool:
        try:
            requests.get(url + "/robots.txt", timeout=3)
            return True
        except requests.RequestException:
            return False

    return all(answers(config.functions[f.name].url) for f in topology.FUNCTIONS)


@pytest.mark.timeout(600)  # healthy, it ends in about a minute; a busy machine is given room
def test_every_report_ends_final_once_under_kills_a_pubsub_restart_and_triple_delivery(stack, client):
    result = run_bench(client.config, stack.state_dir, reports=30, photo_share=0.2,
                       faults={"kill", "restart-pubsub", "dup3"}, concurrency=6, poison=4, tick_s=3.0,
                       timeout_s=420, seed=11, fault_window_s=15, client_factory=StackClient, wa_conversations=3,
                       social=2)
    assert (result["lost"], result["stuck"], result["duplicated_timeline_entries"]) == (0, 0, 0), result
    # Issue 18: notify is killed in the rotation too; every message owed arrives, none twice.
    assert result["messages_owed"] > 0 and (result["messages_lost"], result["messages_twice"]) == (0, 0), result
    # Pushes to the bench citizens' phones, at the FCM stand-in: every one owed arrives, none twice.
    assert result["pushes_owed"] > 0 and (result["pushes_lost"], result["pushes_twice"]) == (0, 0), result
    assert result["final"] == 30
    # Issue 19: whatsapp is killed in the rotation while residents converse (Meta redelivering what
    # was not answered 200): each conversation made exactly one report.
    assert result["whatsapp"] == {"conversations": 3, "one_report": 3, "no_report": 0, "reports_twice": 0}, result
    # record_figures is killed too: every report's figures end as new as the report, and exact.
    assert (result["figures_behind"], result["figures_differing"]) == (0, 0), result
    # support_report and comment_on_report are killed while two residents support and comment on
    # six reports, retrying as the app does: each support counted once, each comment stored once.
    social = result["social"]
    assert social["supports"] == social["comments"] == 12 and social["refused"] == 0, social
    assert (social["supports_lost"], social["supports_twice"], social["comments_lost"],
            social["comments_twice"]) == (0, 0, 0, 0), social
    assert result["poison_dead_lettered_with_reason"] == result["poison"] == 4
    assert sum(result["kills"].values()) >= 3 and result["pubsub_restarts"] == 1, result
    assert result["extra_deliveries"] > 0 and not result["fault_errors"]
    # The supervisors brought every process back: the tests after this one see a whole stack.
    assert wait_until(lambda: _all_functions_answer(client.config), timeout_s=120)
