"""The README's Quick start and .ci/run say the same thing; the repo stays lint-clean."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", section, re.S)
    return [line.strip() for b in blocks for line in b.strip().splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_quick_start_has_two_commands_and_ci_runs_the_second() -> None:
    cmds = _quick_start_commands()
    assert len(cmds) == 2, cmds
    launch, test = cmds
    assert "cocoview" in launch and "--demo" in launch
    assert "pytest" in test
    ci = (REPO / ".ci" / "run").read_text()
    assert test in ci.splitlines()


def test_ruff_clean() -> None:
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                        str(REPO)],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_clean() -> None:
    r = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=REPO,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
