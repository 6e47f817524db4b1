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
