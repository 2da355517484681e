"""The package imports under ``python -OO``, which strips docstrings (the
shared docstring blocks must not assume a docstring is there)."""

import subprocess
import sys


def test_every_public_name_imports_with_docstrings_stripped():
    code = "import deepzoo\nfor name in deepzoo.__all__:\n    getattr(deepzoo, name)\nprint('ok')"
    out = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
