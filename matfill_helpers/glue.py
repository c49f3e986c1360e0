"""``glue``: name a value computed in a chapter so the book's prose can quote it.

In the book build (myst-nb installed) this is ``myst_nb.glue``. Anywhere else (Colab, a bare
Jupyter, a script) myst-nb is not needed: the value is only displayed when ``display=True``.

>>> glue("answer", 42, display=False)  # works with or without myst-nb
"""

from __future__ import annotations


def glue(name, variable, display=True):
    """Store ``variable`` under ``name`` for ``{glue:text}`name``` in the book's prose.

    Parameters
    ----------
    name : str, the key the prose refers to
    variable : any object the book can display (a number, a figure, ...)
    display : bool, also show it in the notebook's output (as ``myst_nb.glue``)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"glue: 'name' must be a non-empty str; got {name!r}.")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(variable)
        return
    myst_glue(name, variable, display=display)
