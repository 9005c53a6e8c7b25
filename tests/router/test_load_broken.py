"""One broken rules file per validation message: the line, the key path and the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from router import RulesError, load_rules_file

BROKEN = Path(__file__).parent / "fixtures" / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))


def _expectation(fixture: Path) -> tuple[int, str, str]:
    """Read ``# expect: PATH | FRAGMENT`` from line 1 and the line marked ``# <- error``."""
    lines = fixture.read_text(encoding="utf-8").splitlines()
    path, fragment = lines[0].removeprefix("# expect:").split("|", 1)
    marked = [number for number, text in enumerate(lines, 1) if text.endswith("# <- error")]
    assert len(marked) == 1, f"{fixture.name} must mark exactly one line"
    return marked[0], "" if path.strip() == "-" else path.strip(), fragment.strip()


def test_there_is_a_fixture_per_message() -> None:
    """The broken-file table covers at least 22 distinct validation messages."""
    assert len(CASES) >= 22


@pytest.mark.parametrize("fixture", CASES, ids=[case.stem for case in CASES])
def test_broken_file_reports_line_path_and_message(fixture: Path) -> None:
    """Loading the fixture fails with an error on the marked line, at the key path, saying why."""
    line, path, fragment = _expectation(fixture)
    with pytest.raises(RulesError) as caught:
        load_rules_file(fixture)
    errors = caught.value.errors
    assert any(
        issue.line == line and issue.path == path and fragment in issue.message for issue in errors
    ), "\n".join(str(issue) for issue in errors)
    assert str(caught.value).startswith(f"{fixture}:")
