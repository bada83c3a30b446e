"""The documents point at tests that exist, and the README shows the two commands."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_security_doc_names_only_real_tests():
    doc = (ROOT / "docs" / "SECURITY.md").read_text()
    references = re.findall(r"`(test_\w+\.py)::(test_\w+)`", doc)
    assert len(references) > 40
    for filename, test in references:
        path = ROOT / "tests" / filename
        assert path.exists(), filename
        assert test in _test_names(path), f"{filename}::{test}"


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
