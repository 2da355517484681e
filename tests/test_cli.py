"""The ``deepzoo`` command: exit codes, --version and --help, where recipes
are found, and suggestions for a misspelled recipe name."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import deepzoo
from deepzoo.cli import main

from .test_recipes import FINETUNE, PRETRAIN

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {kind: sorted(p.stem for p in (ROOT / kind).glob("*.toml"))
           for kind in ("pretrain", "finetune")}


def _run(argv, capsys):
    """``(exit code, stdout, stderr)`` of ``deepzoo argv``; argparse's own
    exits (--help, --version, usage errors) count as exit codes too."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A working directory outside the source tree."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture
def tiny_recipes(tmp_path):
    """A recipes folder holding one small experiment, ``tiny-e2e``."""
    root = tmp_path / "recipes"
    for kind, text in (("pretrain", PRETRAIN), ("finetune", FINETUNE)):
        (root / kind).mkdir(parents=True)
        (root / kind / "tiny-e2e.toml").write_text(text)
    return root


# -- --version and --help ----------------------------------------------------

def test_version(capsys):
    code, out, _ = _run(["--version"], capsys)
    assert code == 0
    assert out == f"deepzoo {deepzoo.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", deepzoo.__version__)


def test_help_is_plain_text_and_documents_exit_codes(capsys):
    code, out, _ = _run(["--help"], capsys)
    assert code == 0
    for markup in ("``", ":mod:", ":func:", ":class:", ".. "):
        assert markup not in out, f"reStructuredText {markup!r} in --help"
    assert "exit status" in out
    for code_line in ("0 ", "1 ", "2 "):
        assert re.search(rf"^\s+{code_line}", out, re.M), f"exit code {code_line} undocumented"
    assert "--recipes-dir" in out and "installed with deepzoo" in out


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_no_heavy_module(argv):
    # What makes --help slow: numba, scikit-learn and numpy on import.
    code = (
        "import sys\n"
        "from deepzoo.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numba', 'sklearn', 'numpy', 'scipy', 'h5py'})\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert "heavy: []" in run.stderr


def test_subcommand_help_is_plain_text(capsys):
    for command in ("info", "list", "pretrain", "finetune", "reproduce", "results"):
        code, out, _ = _run([command, "--help"], capsys)
        assert code == 0 and "``" not in out, command


def test_usage_errors_exit_2(capsys):
    assert _run([], capsys)[0] == 2
    assert _run(["trian"], capsys)[0] == 2
    assert _run(["list", "--no-such-option"], capsys)[0] == 2


# -- the package's import is lazy but complete --------------------------------

def test_lazy_package_keeps_its_names():
    code = (
        "import sys, deepzoo\n"
        "assert 'numba' not in sys.modules and 'sklearn' not in sys.modules\n"
        "from deepzoo import BernoulliRBM\n"
        "assert BernoulliRBM.__module__ == 'deepzoo.layers._rbm'\n"
        "assert 'numba' in sys.modules\n"
        "names = dir(deepzoo)\n"
        "missing = [n for n in deepzoo.__all__ if n not in names]\n"
        "assert not missing, missing\n"
        "assert all(getattr(deepzoo, n) is not None for n in deepzoo.__all__)\n"
        "assert deepzoo.stacks.DBN is deepzoo.DBN\n"
        "ns = {}\n"
        "exec('from deepzoo import *', ns)\n"
        "assert set(deepzoo.__all__) <= set(ns)\n"
        "try:\n"
        "    deepzoo.NoSuchThing\n"
        "except AttributeError as exc:\n"
        "    assert 'NoSuchThing' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# -- list -------------------------------------------------------------------

def _listed(out):
    """``{kind: [names]}`` from the output of ``deepzoo list``."""
    found = {"pretrain": [], "finetune": []}
    for line in out.splitlines():
        kind, _, rest = line.partition(" ")
        if kind in found:
            found[kind].append(rest.split()[0])
    return found


def test_list_from_another_directory_uses_the_installed_recipes(elsewhere, capsys):
    code, out, _ = _run(["list"], capsys)
    assert code == 0
    assert _listed(out) == SHIPPED
    assert "installed with deepzoo" in out


def test_list_in_a_folder_with_recipes_uses_them(tiny_recipes, monkeypatch, capsys):
    monkeypatch.chdir(tiny_recipes)
    code, out, _ = _run(["list"], capsys)
    assert code == 0
    assert _listed(out) == {"pretrain": ["tiny-e2e"], "finetune": ["tiny-e2e"]}
    assert "current directory" in out


def test_list_recipes_dir(tiny_recipes, elsewhere, capsys):
    code, out, _ = _run(["list", "--recipes-dir", str(tiny_recipes)], capsys)
    assert code == 0
    assert _listed(out) == {"pretrain": ["tiny-e2e"], "finetune": ["tiny-e2e"]}


def test_list_finding_nothing_exits_1(tmp_path, capsys):
    code, out, err = _run(["list", "--recipes-dir", str(tmp_path)], capsys)
    assert code == 1
    assert out == ""
    assert "no recipe" in err and str(tmp_path) in err


def test_list_missing_recipes_dir_exits_2(tmp_path, capsys):
    code, _, err = _run(["list", "--recipes-dir", str(tmp_path / "nope")], capsys)
    assert code == 2
    assert "does not exist" in err


def test_list_names_a_broken_recipe(tmp_path, capsys):
    (tmp_path / "pretrain").mkdir()
    (tmp_path / "pretrain" / "bad.toml").write_text("name = \n")
    code, _, err = _run(["list", "--recipes-dir", str(tmp_path)], capsys)
    assert code == 2
    assert "bad.toml is not valid TOML" in err


# -- names: found anywhere, misspelled ones get suggestions -------------------

def test_misspelled_name_gets_a_suggestion(elsewhere, capsys):
    code, out, err = _run(["reproduce", "rbm-logistic-digit"], capsys)
    assert code == 2
    assert "no recipe named 'rbm-logistic-digit'" in err
    assert "did you mean 'rbm-logistic-digits'" in err
    assert not (elsewhere / "runs").exists()


@pytest.mark.parametrize("kind, typo, meant", [
    ("pretrain", "dbn-mnst", "dbn-mnist"),
    ("finetune", "sda-fashon", "sda-fashion"),
])
def test_misspelled_name_of_a_kind(elsewhere, capsys, kind, typo, meant):
    code, _, err = _run([kind, typo], capsys)
    assert code == 2
    assert f"did you mean '{meant}'" in err


def test_finetune_name_suggests_only_finetune_recipes(elsewhere, capsys):
    # rbm-logistic-digits has no fine-tuning recipe.
    code, _, err = _run(["finetune", "rbm-logistic-digits"], capsys)
    assert code == 2
    assert "no recipe named 'rbm-logistic-digits'" in err
    assert "did you mean 'rbm-logistic-digits'" not in err


def test_unknown_name_without_close_match(elsewhere, capsys):
    code, _, err = _run(["reproduce", "zzzz"], capsys)
    assert code == 2
    assert "did you mean" not in err and "deepzoo list" in err


def test_name_that_is_not_a_plain_name_exits_2(elsewhere, capsys):
    code, _, err = _run(["reproduce", "../x"], capsys)
    assert code == 2 and "plain name" in err


def test_missing_recipe_file_exits_2(tmp_path, capsys):
    code, _, err = _run(["pretrain", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "no recipe file" in err


def test_bundled_finetune_needs_its_pretraining_run(elsewhere, tmp_path, capsys):
    runs = tmp_path / "runs"
    code, _, err = _run(["finetune", "dbn-mnist", "--runs-dir", str(runs)], capsys)
    assert code == 2
    assert "deepzoo pretrain dbn-mnist" in err


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_names_with_recipes_dir_and_runs_dir(tiny_recipes, elsewhere, tmp_path, capsys):
    runs = tmp_path / "runs"
    where = ["--recipes-dir", str(tiny_recipes), "--runs-dir", str(runs)]
    assert _run(["pretrain", "tiny-e2e", *where], capsys)[0] == 0
    assert (runs / "tiny-e2e" / "pretrain" / "metrics.json").is_file()
    assert _run(["finetune", "tiny-e2e", *where], capsys)[0] == 0
    assert (runs / "tiny-e2e" / "finetune" / "metrics.json").is_file()
    # Both finished: reproduce reuses them.
    code, out, _ = _run(["reproduce", "tiny-e2e", *where], capsys)
    assert code == 0 and out.count("finished run found") == 2
    # A finished run is in the way of a second pretrain.
    code, _, err = _run(["pretrain", "tiny-e2e", *where], capsys)
    assert code == 2 and "--overwrite" in err
    code, out, _ = _run(["results", "--runs-dir", str(runs)], capsys)
    assert code == 0 and "| tiny-e2e (pretrain) | main |" in out
    assert not (elsewhere / "runs").exists()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_variant_option(tiny_recipes, elsewhere, tmp_path, capsys):
    runs = tmp_path / "runs"
    where = ["--recipes-dir", str(tiny_recipes), "--runs-dir", str(runs)]
    assert _run(["pretrain", "tiny-e2e", *where], capsys)[0] == 0
    code, _, _ = _run(["finetune", "tiny-e2e", "--variant", "no-pretraining", *where], capsys)
    assert code == 0
    assert set(json.loads((runs / "tiny-e2e" / "finetune" / "metrics.json").read_text())[
        "variants"]) == {"no-pretraining"}
    code, _, err = _run(["finetune", "tiny-e2e", "--variant", "pretrainde", *where], capsys)
    assert code == 2 and "no variant 'pretrainde'; its variants are pretrained" in err


# -- results ----------------------------------------------------------------

def test_results_without_runs_exits_1(elsewhere, capsys):
    code, out, err = _run(["results"], capsys)
    assert code == 1
    assert out == ""
    assert "no finished run" in err and str(elsewhere / "runs") in err


def test_results_with_only_unfinished_runs_exits_1(tmp_path, capsys):
    (tmp_path / "runs" / "x" / "pretrain").mkdir(parents=True)
    (tmp_path / "runs" / "x" / "pretrain" / "metrics.json").write_text("{broken")
    code, out, err = _run(["results", "--runs-dir", str(tmp_path / "runs")], capsys)
    assert code == 1 and out == "" and "no finished run" in err


# -- info -------------------------------------------------------------------

def test_info_says_where_recipes_come_from(tiny_recipes, elsewhere, capsys):
    code, out, _ = _run(["info"], capsys)
    assert code == 0
    assert f"deepzoo {deepzoo.__version__}" in out and "installed with deepzoo" in out
    code, out, _ = _run(["info", "--recipes-dir", str(tiny_recipes)], capsys)
    assert code == 0 and str(tiny_recipes) in out


def test_output_into_a_closed_pipe_is_no_traceback(tmp_path):
    # 'deepzoo list | head -1': the reader is gone before the listing is written.
    run = subprocess.Popen([sys.executable, "-m", "deepzoo.cli", "list"], cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run.stdout.close()
    err = run.stderr.read().decode()
    assert run.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
