"""Sphinx configuration of the deepzoo documentation.

Build the site from the repository root with one command (warnings are
errors, so a broken docstring or example fails the build)::

    python -m sphinx -W -b html docs docs/_build/html

``DEEPZOO_DOCS_QUICK=1`` makes every gallery example train for a few epochs
only: the build then checks that the examples run, not what they learn.
"""

import os

import deepzoo

project = "deepzoo"
author = "the deepzoo developers"
copyright = "the deepzoo developers"
release = deepzoo.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
# The Markdown notes are offered as downloads from the index (no Markdown
# parser needed); Sphinx itself reads only the reStructuredText pages.
exclude_patterns = ["_build", "*.md"]

autosummary_generate = True
# The class template lists the methods itself (with their documentation);
# numpydoc's own member tables would point at undocumented targets.
numpydoc_show_class_members = False
numpydoc_validation_checks = set()



def skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Leave methods inherited from scikit-learn to scikit-learn's docs.

    Their docstrings link to labels of scikit-learn's own site (its user
    guide, glossary and examples), which would be broken links here.
    """
    module = getattr(obj, "__module__", None) or ""
    if module == "sklearn" or module.startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", skip_scikit_learn_members)


html_theme = "alabaster"
html_title = f"deepzoo {release}"
html_static_path = []

QUICK = os.environ.get("DEEPZOO_DOCS_QUICK", "") not in ("", "0")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # A failing example fails the build instead of showing a traceback.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "show_memory": False,
    "reset_modules": ("matplotlib",),
    # Examples call deepzoo, which the gallery then links to the API pages.
    "doc_module": ("deepzoo",),
    # The API pages include their example lists from their own folder.
    "backreferences_dir": "generated",
    "min_reported_time": 0 if QUICK else 1,
}
