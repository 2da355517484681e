"""Docstrings assembled from shared blocks: one mechanism for every family.

A docstring names a shared block by a placeholder ``%(name)s`` on a line of
its own, at column 0 (the block carries its own indentation);
:func:`fill_docstring` puts the block in. The docstring stays a plain
string literal: no ``str.format`` or f-string, so numpydoc's option sets
(``{"a", "b"}``) are written as they read, without doubled braces.
"""

import re

__all__ = ["fill_docstring"]

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def fill_docstring(**blocks):
    """Decorator: replace each ``%(name)s`` of the docstring by ``blocks[name]``.

    Parameters
    ----------
    **blocks : str
        Shared docstring sections by placeholder name.

    Returns
    -------
    callable
        Decorator for a class or function; it returns its argument with
        the docstring filled in.

    Raises
    ------
    ValueError
        When decorating, if the docstring's placeholders and ``blocks`` do
        not match one to one: a misspelt name fails at import instead of
        printing ``%(name)s`` in the documentation.

    Examples
    --------
    >>> @fill_docstring(shared="    x : int\\n        The input.")
    ... def f(x):
    ...     '''Double.
    ...
    ...     Parameters
    ...     ----------
    ... %(shared)s
    ...     '''
    >>> print(f.__doc__.splitlines()[4])
        x : int
    """
    def decorate(obj):
        doc = obj.__doc__
        if doc is None:  # python -OO strips docstrings; nothing to fill
            return obj
        wanted = set(_PLACEHOLDER.findall(doc))
        if wanted != set(blocks):
            raise ValueError(
                f"docstring of {obj.__qualname__}: placeholders {sorted(wanted)} do not "
                f"match the blocks given {sorted(blocks)}; name each block once as "
                "%(name)s on a line of its own."
            )
        obj.__doc__ = _PLACEHOLDER.sub(lambda match: blocks[match.group(1)], doc)
        return obj

    return decorate
