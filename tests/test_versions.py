"""The version policy: every range's lower bound is what CI's oldest run installs."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
OLDEST = REPO / ".ci" / "constraints-oldest.txt"


def _requirements() -> list[Requirement]:
    text = (REPO / "pyproject.toml").read_text()
    out = []
    for block in re.findall(r"^(?:dependencies|test) = \[(.*?)^\]", text, re.M | re.S):
        out += [Requirement(s) for s in re.findall(r'^\s*"([^"]+)"', block, re.M)]
    return out


def _pins() -> dict[str, Version]:
    pins = {}
    for line in OLDEST.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, ver = line.partition("==")
            pins[name.strip().lower()] = Version(ver.strip())
    return pins


def test_every_lower_bound_is_pinned_in_the_oldest_constraints() -> None:
    reqs = _requirements()
    assert len(reqs) >= 8  # the parse found the lists
    pins = _pins()
    for req in reqs:
        exact = [s for s in req.specifier if s.operator == "=="]
        lower = [s for s in req.specifier if s.operator == ">="]
        assert exact or lower, f"{req}: every dependency needs a lower bound (or a pin)"
        if exact:
            continue  # one version: the newest run tests it
        assert req.name.lower() in pins, f"{req.name} is missing from {OLDEST.name}"
        assert pins[req.name.lower()] == Version(lower[0].version), (
            f"{req.name}: lower bound {lower[0].version}, oldest run installs "
            f"{pins[req.name.lower()]}")
        assert req.specifier.contains(pins[req.name.lower()])
    names = {r.name.lower() for r in reqs}
    assert set(pins) <= names, f"pinned but not a dependency: {set(pins) - names}"


def test_upper_bounds_say_why() -> None:
    lines = (REPO / "pyproject.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.search(r'"[^"]*<[^"]*"', line):
            assert "#" in line or lines[i - 1].strip().startswith("#"), (
                f"an upper bound needs its reason beside it: {line.strip()}")
