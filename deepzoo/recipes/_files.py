"""The files of a run folder: confined to the runs folder, written whole."""

import json
from pathlib import Path

from ..utils._files import write_atomic
from ._schema import RecipeError

__all__ = ["inside", "read_summary", "write_text"]

# What the report and the results table read from a finished run.
_SUMMARY_KEYS = {"recipe", "kind", "data", "paper", "paper_values", "variants"}


def inside(runs_dir, path):
    """Return ``path`` if it resolves inside ``runs_dir``, else raise ``RecipeError``.

    Resolving follows symbolic links, so a link in the runs folder that points
    elsewhere is refused as surely as a name with ``..`` in it. The runs
    folder itself may be a link (e.g. to a bigger disk).
    """
    root = Path(runs_dir).resolve()
    target = Path(path).resolve()
    if not target.is_relative_to(root):
        raise RecipeError(
            f"{path} lies outside the runs folder {root} (it resolves to {target}); a run "
            "writes and deletes only inside its runs folder: check the recipe's names and "
            f"any symbolic link under {runs_dir}.")
    return Path(path)


def write_text(path, text):
    """Write ``text`` to ``path`` whole (``write_atomic``), so that an
    interrupted run never leaves a truncated file behind."""
    write_atomic(path, text.encode("utf-8"))


def read_summary(path):
    """The summary in a run's ``metrics.json``, or None when the file is
    missing or unreadable: either way the run did not finish."""
    try:
        summary = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or not _SUMMARY_KEYS <= set(summary):
        return None
    return summary
