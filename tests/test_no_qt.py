"""The model layer and the headless API never import Qt, directly or indirectly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import DEMO, REPO

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "shiboken6", "superqt", "PyQt5", "PyQt6"):
                raise ImportError(f"Qt is blocked in this test: {name}")
            return None
    sys.meta_path.insert(0, Block())
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)


def test_model_imports_without_qt() -> None:
    root = REPO / "cocoview" / "model"
    modules = sorted(  # recursive: a model sub-package is model too
        ".".join(("cocoview", "model", *p.relative_to(root).with_suffix("").parts))
        .removesuffix(".__init__")
        for p in root.rglob("*.py")
    )
    assert "cocoview.model.loader" in modules
    code = "import importlib, sys\nimport cocoview, cocoview.cli, cocoview.resources\n"
    code += "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += (
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', "
        "'superqt')]\nassert not bad, bad\nprint('ok', len(sys.modules))\n"
    )
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")


def test_headless_api_and_cli_without_qt(tmp_path: Path) -> None:
    inst = DEMO / "annotations" / "instances_demo.json"
    out = tmp_path / "r.png"
    r = _run(
        f"""
        import sys, cocoview
        from cocoview.cli import main
        ds = cocoview.open({str(inst)!r})
        iid = int(ds.image_ids[0])
        ds.annotations(iid); ds.problems()
        ds.mask(int(ds.annotation_ids(iid)[0]))
        assert main(['stats', {str(inst)!r}]) == 0
        assert main(['render', {str(inst)!r}, '--image-id', str(iid), '--out', {str(out)!r}]) == 0
        assert not [m for m in sys.modules if m.startswith('PySide6')]
        """
    )
    assert r.returncode == 0, r.stderr
    assert out.is_file()


def test_import_contracts_hold() -> None:
    """import-linter's contracts (pyproject.toml): every import path, not only this run's."""
    r = subprocess.run([sys.executable, "-c",
                        "import sys; from importlinter.cli import lint_imports; "
                        "sys.exit(lint_imports())"],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "5 kept, 0 broken" in r.stdout
