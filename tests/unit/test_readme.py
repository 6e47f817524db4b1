"""The README's map names every function and topic of the topology, and its two commands exist."""

from keluhan import topology
from keluhan.settings import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def test_readme_starts_with_the_run_and_test_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "./scripts/run" in first_block and "./scripts/test" in first_block
    assert "./scripts/test" in (REPO_ROOT / ".ci" / "run").read_text()


def test_readme_map_names_every_function_and_topic():
    for fn in topology.FUNCTIONS:
        assert f"`{fn.name}`" in README
    for topic in topology.STAGE_TOPICS:
        assert f"`{topic}`" in README


def test_docs_handling_lists_the_workflow_table_as_it_is():
    from keluhan.domain.workflow import MOVES

    text = (REPO_ROOT / "docs" / "handling.md").read_text()
    for action, move in MOVES.items():
        sources = ", ".join(sorted("–" if s is None else s.value for s in move.sources))
        targets = ", ".join(sorted(t.value for t in move.targets))
        roles = ", ".join(sorted(r.value for r in move.roles))
        who = roles + (" (assignee only)" if move.assignee_only else "") + (" (reporter only)" if move.reporter_only else "")
        assert f"| `{action.value}` | {sources} | {targets} | {who} |" in text, action
