"""The recipes' measures of generative models: AIS beside RAISE, the gap
between them and the report's flag on a gap above 1 nat, parallel
tempering's swap rates, and fantasies judged by an independent classifier."""

import copy
import json

import numpy as np
import pytest

from deepzoo.recipes._report import AIS_RAISE_GAP_LIMIT, results_table, write_report


def _toy():
    from deepzoo import BernoulliRBM
    from deepzoo.recipes._data import Split

    rng = np.random.default_rng(0)
    X = (rng.random((300, 12)) < rng.random(12)).astype(np.float64)
    rbm = BernoulliRBM(n_components=6, n_iter=5, random_state=0).fit(X)
    return rbm, Split(X[:200], None, X[200:], None, "toy", (3, 4))


def test_raise_measure_and_the_gap_on_a_small_rbm():
    from deepzoo.recipes._metrics import measure

    rbm, split = _toy()
    evaluate = {"metrics": ["log_likelihood", "raise"],
                "params": {"ais_runs": 50, "raise_images": 40, "raise_runs": 20}}
    out = measure(rbm, split, evaluate, {})
    X = split.X_test[:40]
    exact = rbm.log_likelihood(X).mean()
    assert out["raise_images"] == 40 and out["raise_runs"] == 20
    assert abs(out["raise_test_log_likelihood"] - exact) < 0.05
    # raise_log_z is the log Z RAISE implies on those images: the gap is
    # AIS's average log-likelihood on them minus RAISE's
    ais_on_them = np.mean(-rbm.free_energy(X) - out["ais_log_z"])
    assert out["ais_raise_gap_nats"] == pytest.approx(
        ais_on_them - out["raise_test_log_likelihood"], abs=1e-9)
    assert abs(out["ais_raise_gap_nats"]) < 0.05
    assert out["raise_minus_exact_log_z"] == pytest.approx(
        exact - out["raise_test_log_likelihood"], abs=1e-9)
    # without AIS there is no gap to report
    alone = measure(rbm, split, {"metrics": ["raise"], "params": {"raise_images": 5,
                                                                  "raise_runs": 2}}, {})
    assert "ais_raise_gap_nats" not in alone and alone["raise_images"] == 5
    assert out["ais_sweeps"] == out["raise_sweeps"] == 1
    assert out["ais_tempered"] == out["raise_tempered"] == 0


def test_sweeps_reach_the_estimators():
    from deepzoo.recipes._metrics import _base_rate, measure

    rbm, split = _toy()
    params = {"ais_runs": 20, "raise_images": 5, "raise_runs": 4, "ais_sweeps": 3,
              "raise_sweeps": 2}
    out = measure(rbm, split, {"metrics": ["log_likelihood", "raise"], "params": params}, {})
    assert out["ais_sweeps"] == 3 and out["raise_sweeps"] == 2
    base_rate = _base_rate(split, params)
    log_z, _ = rbm.log_partition("ais", n_runs=20, base_rate=base_rate, n_sweeps=3,
                                 random_state=0)
    assert out["ais_log_z"] == log_z
    log_p = rbm.log_likelihood(split.X_test[:5], "raise", n_runs=4, base_rate=base_rate,
                               n_sweeps=2, random_state=0)
    assert out["raise_test_log_likelihood"] == pytest.approx(log_p.mean(), abs=0)
    # one sweep draws differently: the setting is not ignored
    assert log_z != rbm.log_partition("ais", n_runs=20, base_rate=base_rate,
                                      random_state=0)[0]


def test_tempered_transitions_reach_the_estimators():
    from deepzoo.recipes._metrics import _base_rate, measure

    rbm, split = _toy()
    params = {"ais_runs": 20, "raise_images": 5, "raise_runs": 4, "ais_tempered": 2,
              "raise_tempered": 1, "tempered_every": 50}
    out = measure(rbm, split, {"metrics": ["log_likelihood", "raise"], "params": params}, {})
    assert (out["ais_tempered"], out["raise_tempered"]) == (2, 1)
    assert out["ais_tempered_every"] == out["raise_tempered_every"] == 50
    base_rate = _base_rate(split, params)
    log_z, _ = rbm.log_partition("ais", n_runs=20, base_rate=base_rate, n_tempered=2,
                                 tempered_every=50, random_state=0)
    assert out["ais_log_z"] == log_z
    log_p = rbm.log_likelihood(split.X_test[:5], "raise", n_runs=4, base_rate=base_rate,
                               n_tempered=1, tempered_every=50, random_state=0)
    assert out["raise_test_log_likelihood"] == pytest.approx(log_p.mean(), abs=0)
    plain = rbm.log_likelihood(split.X_test[:5], "raise", n_runs=4, base_rate=base_rate,
                               random_state=0)
    assert log_p.mean() != plain.mean()


def _summary(gaps):
    variants = {}
    for name, gap in gaps.items():
        variants[name] = {"ais_test_log_likelihood": -80.0, "fit_seconds": 1.0,
                          "measure_seconds": 1.0}
        if gap is not None:
            variants[name].update(raise_test_log_likelihood=-80.0 - gap, ais_raise_gap_nats=gap)
    return {"title": "t", "recipe": "rbm-ais-toy", "kind": "pretrain", "seed": 0,
            "starts_from": None, "data": "toy", "baselines": {}, "wall_seconds": 2.0,
            "paper": {"source": "paper", "setting": "", "metric": "ais_test_log_likelihood",
                      "value": -86.34, "note": ""},
            "paper_values": {}, "variants": variants}


def test_report_flags_a_gap_above_one_nat(tmp_path):
    summary = _summary({"good": 0.4, "at-limit": AIS_RAISE_GAP_LIMIT, "bad": 3.25,
                        "broken": float("nan"), "no-raise": None,
                        "at-limit-below": -AIS_RAISE_GAP_LIMIT, "wrong-order": -1.61})
    write_report(summary, tmp_path / "report.md")
    report = (tmp_path / "report.md").read_text()
    assert "**Unreliable log-likelihoods.**" in report
    flagged = [line for line in report.splitlines() if line.startswith("- ") and "AIS minus" in line]
    # AIS below RAISE by more than the limit breaks the sandwich itself:
    # flagged as well, with the order named
    assert flagged == ["- bad: AIS minus RAISE = 3.25 nats", "- broken: AIS minus RAISE = nan nats",
                       "- wrong-order: AIS minus RAISE = -1.61 nats (AIS below RAISE: "
                       "the wrong order, AIS's log Z too high)"]
    # and in the table, beside the number itself
    assert "| bad | - | -80 (unreliable: AIS-RAISE gap 3.25 nats) | toy |" in report
    assert "| good | - | -80 | toy |" in report
    assert "- ais_raise_gap_nats: 0.4" in report  # every gap is listed among the measurements

    # the summary table of finished runs carries the same warning
    folder = tmp_path / "runs" / "rbm-ais-toy" / "pretrain"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(summary))
    table = results_table(tmp_path / "runs")
    assert "-80 (unreliable: AIS-RAISE gap 3.25 nats)" in table
    assert "-80 (unreliable: AIS-RAISE gap -1.61 nats)" in table
    assert table.count("unreliable") == 3

    fine = _summary({"good": 0.4})
    write_report(fine, tmp_path / "fine.md")
    assert "nreliable" not in (tmp_path / "fine.md").read_text()


def test_report_flags_an_ais_interval_reaching_minus_infinity(tmp_path):
    """A +-3 SD interval of AIS's log Z that reaches -inf (the AIS weights'
    spread swamps their mean) is flagged even where RAISE agrees."""
    summary = _summary({"open": 0.35, "open-and-far": 2.5, "closed": 0.35})
    summary["variants"]["open"]["ais_log_z_low"] = float("-inf")
    summary["variants"]["open-and-far"]["ais_log_z_low"] = float("-inf")
    summary["variants"]["closed"]["ais_log_z_low"] = 400.0
    write_report(summary, tmp_path / "report.md")
    report = (tmp_path / "report.md").read_text()
    flagged = [line for line in report.splitlines() if line.startswith("- open")]
    assert flagged == ["- open: AIS's +-3 SD interval for log Z reaches -inf",
                       "- open-and-far: AIS minus RAISE = 2.5 nats; AIS's +-3 SD interval for "
                       "log Z reaches -inf"]
    assert "| open | - | -80 (unreliable: AIS interval reaches -inf) | toy |" in report
    assert "| closed | - | -80 | toy |" in report
    assert not any(line.startswith("- closed:") for line in report.splitlines())


@pytest.mark.slow
def test_ais_recipe_runs_scaled_down_and_reports_raise(data_dir, tmp_path, monkeypatch):
    """rbm-ais-mnist on 300 images, 1/25 of the units, 2 epochs, two of its
    variants, RAISE on 5 test images: the measures and the gap reach
    metrics.json and the report."""
    from deepzoo import recipes
    from deepzoo.recipes import load_recipe

    from .test_recipes import ROOT
    from .test_recipes_mnist import scaled_down

    monkeypatch.setenv("DEEPZOO_DATA", str(data_dir))
    recipe = scaled_down(load_recipe(ROOT / "pretrain" / "rbm-ais-mnist.toml"))
    assert recipe.evaluate["metrics"] == ["log_likelihood", "raise"]
    recipe = copy.deepcopy(recipe)
    recipe.evaluate["params"].update(ais_runs=10, raise_images=5, raise_runs=2)
    recipes.run_recipe(recipe, runs_dir=tmp_path / "runs", variants=["cd1-500", "pcd-25"])
    folder = tmp_path / "runs" / "rbm-ais-mnist" / "pretrain"
    metrics = json.loads((folder / "metrics.json").read_text())["variants"]
    report = (folder / "report.md").read_text()
    for name in ("cd1-500", "pcd-25"):
        got = metrics[name]
        assert got["raise_images"] == 5
        assert got["ais_raise_gap_nats"] == pytest.approx(got["raise_log_z"] - got["ais_log_z"])
        assert np.isfinite(got["raise_test_log_likelihood"])
        assert "raise_minus_exact_log_z" in got  # both are small enough to sum exactly
    assert "- ais_raise_gap_nats: " in report


def test_fantasies_are_judged_by_independent_classifiers_too():
    """With labelled training data, the fantasy measure also reports the
    share that a logistic regression and three nearest neighbours of the
    training pixels give the clamped label (Hinton, Osindero & Teh's test),
    each fitted once per split, beside each judge's test accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    from deepzoo import DBN
    from deepzoo.recipes import _metrics
    from deepzoo.recipes._data import Split

    rng = np.random.default_rng(0)
    y = np.arange(120) % 2
    X = (rng.random((120, 8)) < np.where(y[:, None] == 1, 0.9, 0.1)).astype(float)
    split = Split(X[:80], y[:80], X[80:], y[80:], "two classes", (2, 4))
    dbn = DBN(hidden_layer_sizes=(6, 5), n_iter=20, batch_size=10, random_state=0).fit(
        split.X_train, split.y_train)
    params = {"n_samples": 40, "n_gibbs_steps": 50}
    out = _metrics.MEASURES["fantasy_agreement"](dbn, split, params)
    labels, samples = _metrics.fantasies(dbn, params)
    for prefix, kind in (("independent_", LogisticRegression), ("knn_", KNeighborsClassifier)):
        judge, accuracy = _metrics._judge(split, params, prefix)
        assert isinstance(judge, kind)
        assert judge is _metrics._judge(split, params, prefix)[0]  # fitted once
        assert out[f"fantasy_{prefix}judge_test_accuracy"] == accuracy == np.mean(
            judge.predict(split.X_test) == split.y_test)
        hits = judge.predict(samples) == labels
        assert out[f"fantasy_{prefix}label_agreement"] == hits.mean()
        assert out[f"fantasy_{prefix}worst_class_agreement"] == min(
            hits[labels == c].mean() for c in (0, 1))
    assert 0.0 <= out["fantasy_label_agreement"] <= 1.0


def test_parallel_tempering_reports_its_lowest_swap_rate():
    from deepzoo import BernoulliRBM
    from deepzoo.recipes._metrics import measure

    _, split = _toy()
    rbm = BernoulliRBM(n_components=4, n_iter=2, method="pt", n_temperatures=4,
                       random_state=0).fit(split.X_train)
    out = measure(rbm, split, {"metrics": [], "params": {}}, {})
    assert out == {"pt_lowest_swap_rate": float(rbm.swap_rate_.min())}
    assert measure(_toy()[0], split, {"metrics": [], "params": {}}, {}) == {}


def test_one_variant_run_of_many_is_not_set_beside_the_recipes_number(tmp_path):
    # pcd-500-m05 run alone: no paper value of its own, and the recipe's
    # (CD25(500)'s) is another model's
    summary = _summary({"pcd-500-m05": 0.1})
    summary["paper_values"] = {"cd25-500": -86.34, "pcd-500-m05": None}
    write_report(summary, tmp_path / "report.md")
    assert "| pcd-500-m05 | - | -80 | toy |" in (tmp_path / "report.md").read_text()
    # a recipe of one variant takes the recipe's value
    summary["paper_values"] = {"pcd-500-m05": None}
    write_report(summary, tmp_path / "single.md")
    assert "| pcd-500-m05 | -86.34 | -80 | toy |" in (tmp_path / "single.md").read_text()
