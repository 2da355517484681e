"""Where recipes are found: a folder given by the user, the current
directory (a source checkout), or the recipes installed with deepzoo."""

import difflib
from pathlib import Path

from ._schema import KINDS, RecipeError, check_name

__all__ = ["BUNDLED", "find_recipe", "locate_recipes", "recipe_files"]

# The recipe files live at the top of the source tree (pretrain/, finetune/).
# _bundled/ holds links to those two folders: an editable install reads them
# in place, and a wheel carries copies as package data.
BUNDLED = Path(__file__).resolve().parent / "_bundled"


def recipe_files(root, kinds=KINDS):
    """Every ``<kind>/*.toml`` under ``root`` for ``kind`` in ``kinds``, in
    that order and by name."""
    root = Path(root)
    return [path for kind in kinds for path in sorted((root / kind).glob("*.toml"))]


def locate_recipes(recipes_dir=None):
    """The folder whose ``pretrain/`` and ``finetune/`` hold the recipes.

    Parameters
    ----------
    recipes_dir : str or path-like, default=None
        Folder to use. When None: the current directory if its
        ``pretrain/`` or ``finetune/`` holds a recipe (a source checkout),
        else the recipes installed with deepzoo.

    Returns
    -------
    root : pathlib.Path
        The folder, absolute.
    where : str
        How it was chosen, for messages: ``"--recipes-dir"``,
        ``"current directory"`` or ``"installed with deepzoo"``.

    Raises
    ------
    RecipeError
        If ``recipes_dir`` is given and is not a folder.
    """
    if recipes_dir is not None:
        root = Path(recipes_dir).absolute()
        if not root.is_dir():
            raise RecipeError(f"the recipes folder {root} does not exist; pass the folder "
                              "that holds pretrain/ and finetune/.")
        return root, "--recipes-dir"
    if recipe_files(Path.cwd()):
        return Path.cwd(), "current directory"
    return BUNDLED, "installed with deepzoo"


def find_recipe(name, kinds=KINDS, recipes_dir=None):
    """The files of the recipe ``name``: ``<root>/<kind>/<name>.toml`` for
    each ``kind`` in ``kinds`` that has one, ``root`` as chosen by
    :func:`locate_recipes`.

    Raises
    ------
    RecipeError
        If ``name`` is not a plain name, or no such file exists; the message
        offers the closest recipe names of those kinds.
    """
    check_name(name, "the recipe name")
    root, where = locate_recipes(recipes_dir)
    candidates = [root / kind / f"{name}.toml" for kind in kinds]
    found = [path for path in candidates if path.is_file()]
    if found:
        return found
    known = sorted({path.stem for path in recipe_files(root, kinds)})
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    folders = " or ".join(str(path.parent) for path in candidates)
    raise RecipeError(f"no recipe named {name!r} in {folders} ({where}); {hint}"
                      "'deepzoo list' shows the recipes.")
