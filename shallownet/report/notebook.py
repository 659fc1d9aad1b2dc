"""The report's first screen inline, for a Jupyter notebook.

:func:`first_screen_html` renders the first screen of an analysis' report -- the question,
the headline comparison with its interval and the majority-class rate, the findings, one
figure with alt text -- to an HTML fragment in memory (:func:`~shallownet.report.html.render_fragment`:
the figure embedded as base64 PNG, styles scoped, no script, nothing written).
:meth:`Analysis.show() <shallownet.analysis.Analysis.show>` and ``Analysis._repr_html_`` call
it; :func:`show` displays it with IPython when running under IPython and otherwise returns
the string.
"""

from __future__ import annotations

from .build import _is_regression, first_screen, new_report
from .html import Report, render_fragment


def first_screen_report(a) -> Report:
    """A :class:`~shallownet.report.html.Report` holding only the first screen of the report
    of ``a`` (an :class:`~shallownet.analysis.Analysis` or a
    :class:`~shallownet.analysis_regression.RegressionAnalysis`); its figure is drawn here."""
    import matplotlib

    from ..plots.palette import rc_params

    if _is_regression(a):
        from .regression import first_screen_regression

        rep = new_report(a, "regression network")
        draw = first_screen_regression
    else:
        rep, draw = new_report(a, "network"), first_screen
    with matplotlib.rc_context(rc_params()):
        draw(rep, a)
    return rep


def first_screen_html(a, dpi: int = 100) -> str:
    """The first screen of the report of ``a`` as an HTML fragment (figure embedded).

    Parameters
    ----------
    a : Analysis or RegressionAnalysis
    dpi : int
        Resolution of the embedded figure.

    Returns
    -------
    str
    """
    return render_fragment(first_screen_report(a), dpi=dpi)


def show(a, dpi: int = 100):
    """Display the first screen of the report of ``a`` inline.

    Under IPython (a Jupyter notebook, an IPython shell) it is shown with
    ``IPython.display.display(IPython.display.HTML(...))`` and None is returned; elsewhere
    (IPython not installed, or a plain Python process) the HTML fragment is returned as a
    string, to be written to a file or embedded in another page.

    Parameters
    ----------
    a : Analysis or RegressionAnalysis
    dpi : int
        Resolution of the embedded figure.

    Returns
    -------
    None or str
    """
    text = first_screen_html(a, dpi=dpi)
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:
        return text
    if get_ipython() is None:
        return text
    display(HTML(text))
    return None
