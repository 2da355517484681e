"""The built wheel: every recipe inside, no top-level module but ``deepzoo``,
and the ``deepzoo`` command working from it with no source tree in sight."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted(p.relative_to(ROOT).as_posix()
                 for kind in ("pretrain", "finetune") for p in (ROOT / kind).glob("*.toml"))

# Build leftovers and caches: not part of the source that a wheel is built from.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv*", "runs", "build", "dist", "_build",
                                     "*.egg-info", "__pycache__", ".pytest_cache",
                                     "*.nbi", "*.nbc")


def _check(run):
    assert run.returncode == 0, f"{run.args} failed:\n{run.stdout}\n{run.stderr}"
    return run


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    # Built from a copy: a build writes build/ and *.egg-info beside its sources.
    src = tmp / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_NOT_SOURCE)
    _check(subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"),
         str(src)], capture_output=True, text=True, timeout=600))
    (path,) = (tmp / "dist").glob("deepzoo-*.whl")
    return path


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory):
    """The wheel installed into a folder of its own; the dependencies come
    from the test's environment."""
    target = tmp_path_factory.mktemp("site")
    _check(subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300))
    return target


def _run_installed(site, cwd, *argv):
    # PYTHONPATH puts the installed wheel before the environment's own
    # (editable) deepzoo; each test checks that it was the one imported.
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_wheel_carries_every_recipe(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for recipe in RECIPES:
            member = f"deepzoo/recipes/_bundled/{recipe}"
            assert member in names, f"{recipe} is not in the wheel"
            assert zf.read(member) == (ROOT / recipe).read_bytes()
    assert len(RECIPES) >= 16
    # Only the recipes: the experiment scripts beside them are not installed.
    bundled = {n for n in names if "/_bundled/" in n}
    assert bundled == {f"deepzoo/recipes/_bundled/{r}" for r in RECIPES}


def test_wheel_installs_no_top_level_module_but_deepzoo(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (dist_info,) = {n.split("/")[0] for n in names if ".dist-info/" in n}
        assert zf.read(f"{dist_info}/top_level.txt").decode().split() == ["deepzoo"]
    tops = {n.split("/")[0] for n in names} - {dist_info}
    assert tops == {"deepzoo"}
    for stray in ("datasets", "pretrain", "finetune", "benchmarks", "tests"):
        assert not any(n.startswith((f"{stray}/", f"{stray}.py")) for n in names), stray


def test_installed_wheel_lists_its_recipes_from_anywhere(site, tmp_path):
    run = _check(_run_installed(site, tmp_path, sys.executable, "-c",
                                "import deepzoo; print(deepzoo.__file__)"))
    assert Path(run.stdout.strip()).is_relative_to(site)

    run = _check(_run_installed(site, tmp_path, str(site / "bin" / "deepzoo"), "list"))
    assert f"{site}/deepzoo/recipes/_bundled" in run.stdout
    for recipe in RECIPES:
        kind, name = recipe.removesuffix(".toml").split("/")
        assert any(line.split()[:2] == [kind, name] for line in run.stdout.splitlines()), recipe


def test_installed_wheel_finds_recipes_by_name(site, tmp_path):
    run = _check(_run_installed(site, tmp_path, str(site / "bin" / "deepzoo"), "--version"))
    assert run.stdout.startswith("deepzoo ")
    run = _run_installed(site, tmp_path, str(site / "bin" / "deepzoo"),
                         "reproduce", "rbm-logistic-digit")
    assert run.returncode == 2
    assert "did you mean 'rbm-logistic-digits'" in run.stderr
    assert f"{site}/deepzoo/recipes/_bundled" in run.stderr
    # A finetune recipe found by name, refused only for want of its pretraining run.
    run = _run_installed(site, tmp_path, str(site / "bin" / "deepzoo"),
                         "finetune", "dbn-fashion")
    assert run.returncode == 2 and "deepzoo pretrain dbn-fashion" in run.stderr
    assert not (tmp_path / "runs").exists()
