"""Starting cocoview: help, mistyped commands, and a launch with no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cocoview.cli import COMMANDS, main, suggest_command
from cocoview.qt import display


def test_help_shows_gui_usage_and_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    for word in ("FILE", "--images", "--results", "--demo", *COMMANDS):
        assert word in out


@pytest.mark.parametrize(("typed", "meant"), [("stat", "stats"), ("valdate", "validate"),
                                              ("Render", "render"), ("exprot", "export")])
def test_mistyped_command_is_named_not_opened(typed: str, meant: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([typed, "file.json"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"cocoview: unknown command '{typed}'; did you mean '{meant}'?")


def test_a_file_named_like_a_command_still_opens(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stat").write_text("{}")
    assert suggest_command("stat") is None
    assert suggest_command("my_annotations.json") is None
    assert suggest_command("--demo") is None


def _bare_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland check is Linux's")
def test_no_display_exits_2_with_one_line() -> None:
    r = subprocess.run([sys.executable, "-m", "cocoview", "--demo"], env=_bare_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "no display" in lines[0] and "cocoview stats" in lines[0]
    assert "Reinstalling" not in r.stderr


def test_display_problem_rules() -> None:
    if not sys.platform.startswith("linux"):
        assert display.display_problem({}) is None
        return
    assert "no display" in (display.display_problem({}) or "")
    assert display.display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display.display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_missing_xcb_libraries_are_named_with_their_packages(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ldd = ("\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f)\n"
           "\tlibxcb-cursor.so.0 => not found\n"
           "\tlibxcb-icccm.so.4 => not found\n"
           "\tlibxcb-cursor.so.0 => not found\n")
    assert display.parse_ldd_missing(ldd) == ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]
    if not sys.platform.startswith("linux"):
        return
    monkeypatch.setattr(display, "missing_libraries",
                        lambda plugin: display.parse_ldd_missing(ldd))
    msg = display.display_problem({"DISPLAY": ":0"}) or ""
    assert "libxcb-cursor.so.0" in msg
    assert "apt install libxcb-cursor0 libxcb-icccm4" in msg


def test_missing_libraries_of_a_library_that_loads_is_empty() -> None:
    plugin = display.xcb_plugin()
    assert plugin is None or plugin.name == "libqxcb.so"
    libc = Path("/lib/x86_64-linux-gnu/libc.so.6")
    if libc.is_file():
        assert display.missing_libraries(libc) == []
    assert display.missing_libraries(None) == []
