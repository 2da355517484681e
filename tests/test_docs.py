"""The documentation site builds, warnings as errors, examples in quick mode.

The build runs on a copy of ``docs/`` and ``examples/`` in a temporary
folder, because Sphinx writes its generated pages (API stubs, the gallery)
into the source folder.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import deepzoo
import deepzoo.datasets
import deepzoo.io
import deepzoo.layers
import deepzoo.networks
import deepzoo.stacks

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
# Written by a build into docs/: never part of the sources.
GENERATED = ("_build", "generated", "auto_examples", "sg_execution_times.rst")
GALLERY = ("plot_rbm_filters", "plot_dbn_fantasies", "plot_sparse_coding_bases",
           "plot_deep_autoencoder_reconstructions", "plot_pipeline_grid_search")


def _documented_names():
    """Dotted names listed in the API reference, resolved to their objects."""
    names = set()
    module = None
    for line in (DOCS / "api.rst").read_text().splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match.group(1)
        elif match := re.match(r"   ([A-Za-z_][A-Za-z_0-9]*)$", line):
            names.add(f"{module}.{match.group(1)}")
    return names


@pytest.mark.parametrize(
    "module",
    [deepzoo, deepzoo.layers, deepzoo.stacks, deepzoo.networks, deepzoo.io, deepzoo.datasets],
    ids=lambda m: m.__name__,
)
def test_api_reference_lists_every_public_name(module):
    # A name re-exported by deepzoo is documented once, under deepzoo.
    documented = _documented_names()
    missing = [
        name for name in module.__all__
        if name != "__version__"
        and f"{module.__name__}.{name}" not in documented
        and not (name in deepzoo.__all__ and f"deepzoo.{name}" in documented)
    ]
    assert not missing, f"add these public names of {module.__name__} to docs/api.rst: {missing}"


def _require_sphinx():
    try:
        import sphinx  # noqa: F401
    except ImportError:
        pass
    else:
        return
    reason = 'Sphinx is not installed; install the docs extra: pip install -e ".[docs]"'
    if os.environ.get("CI") == "true":
        pytest.fail(f"the documentation build must run in CI: {reason}")
    pytest.skip(reason)


def test_docs_build_quick(tmp_path):
    _require_sphinx()
    ignore = shutil.ignore_patterns(*GENERATED)
    shutil.copytree(DOCS, tmp_path / "docs", ignore=ignore)
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=ignore)
    out = tmp_path / "html"
    env = {**os.environ, "DEEPZOO_DOCS_QUICK": "1", "MPLBACKEND": "agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(tmp_path / "docs"), str(out)],
        # Not the repository root: ``python -m`` puts the working folder
        # first on sys.path, and the build must document the installed package.
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"sphinx failed:\n{result.stdout}\n{result.stderr}"

    for name in deepzoo.__all__:
        if name != "__version__":
            assert (out / "generated" / f"deepzoo.{name}.html").is_file(), name
    for example in GALLERY:
        assert (out / "auto_examples" / f"{example}.html").is_file(), example
        images = list((out / "_images").glob(f"sphx_glr_{example}_*.png"))
        assert images, f"{example} drew no picture"
    # The notes are offered as downloads, whatever Sphinx names their folder.
    for note in ("ARCHITECTURE.md", "experiments.md", "file-format.md"):
        assert list(out.glob(f"_downloads/*/{note}")), note
