"""
RBM features in a Pipeline, tuned by GridSearchCV
=================================================

deepzoo's estimators are scikit-learn estimators, so an RBM feature
extractor goes into a :class:`~sklearn.pipeline.Pipeline` with a
classifier, and :class:`~sklearn.model_selection.GridSearchCV` tunes its
parameters like any other. Here the search is over the number of hidden
units of a :class:`deepzoo.BernoulliRBM` feeding a logistic regression on
scikit-learn's digits; logistic regression on the raw pixels is the
baseline. The best pipeline is then saved and loaded with
:mod:`deepzoo.io`.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

import deepzoo.io
from deepzoo import BernoulliRBM

# DEEPZOO_DOCS_QUICK=1: a few epochs, enough to check that the script runs.
QUICK = os.environ.get("DEEPZOO_DOCS_QUICK", "") not in ("", "0")

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

pipeline = Pipeline([
    ("rbm", BernoulliRBM(learning_rate=0.05, batch_size=10, n_iter=1 if QUICK else 20,
                         random_state=0)),
    ("logistic", LogisticRegression(C=10.0, max_iter=2000)),
])
grid = {"rbm__n_components": [16, 32] if QUICK else [25, 50, 100, 200]}
cv = 2 if QUICK else 3
search = GridSearchCV(pipeline, grid, cv=cv).fit(X_train, y_train)
baseline = LogisticRegression(C=10.0, max_iter=2000)
baseline_cv = cross_val_score(baseline, X_train, y_train, cv=cv).mean()
baseline.fit(X_train, y_train)

print(f"best: {search.best_params_}, cross-validated accuracy {search.best_score_:.3f}")
print(f"held-out accuracy: RBM pipeline {search.score(X_test, y_test):.3f}, "
      f"raw pixels {baseline.score(X_test, y_test):.3f}")

# %%
# Accuracy against the number of hidden units
# -------------------------------------------

n_units = np.array(grid["rbm__n_components"])
mean = search.cv_results_["mean_test_score"]
std = search.cv_results_["std_test_score"]
fig, ax = plt.subplots(figsize=(6, 4))
ax.errorbar(n_units, mean, yerr=std, fmt="o-", capsize=3, label="RBM + logistic")
ax.axhline(baseline_cv, color="gray", linestyle="--", label="raw pixels + logistic")
ax.set_xscale("log")
ax.minorticks_off()
ax.set_xticks(n_units, [str(n) for n in n_units])
ax.set_xlabel("RBM hidden units (n_components)")
ax.set_ylabel(f"{cv}-fold cross-validated accuracy")
ax.set_title("Digits: GridSearchCV over BernoulliRBM.n_components")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# Saving the best pipeline
# ------------------------
# An HDF5 file with no pickle inside; loading it builds only allow-listed
# scikit-learn and deepzoo estimators.

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "best-pipeline.h5")
    deepzoo.io.save(search.best_estimator_, path)
    loaded = deepzoo.io.load(path)
assert np.array_equal(loaded.predict(X_test), search.predict(X_test))
print("the loaded pipeline predicts exactly as the fitted one")
