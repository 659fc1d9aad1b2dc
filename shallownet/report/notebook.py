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

from .build import MAX_FINDINGS, _figure, _is_regression, first_screen, new_report
from .html import Report, render_fragment


def regression_first_screen(rep: Report, a) -> None:
    """The regression counterpart of :func:`~shallownet.report.build.first_screen`: the
    question, the network's and OLS's held-out RMSE and R^2 with the interval of the RMSE
    difference, the findings and the influence figure."""
    from ..plots.regression import plot_regression_influence
    from .regression import regression_findings, target_summary

    net = a.model.network_
    names = [v.name for v in net.variables]
    target = target_summary(a)
    comp = a.results["comparison"]
    m = comp.to_frame().set_index("metric")
    nn, lin = comp.names
    rmse, r2 = m.loc["rmse"], m.loc["r2"]
    sec = rep.section("")
    sec.text(f"Question: how do {len(names)} variables ({', '.join(names)}) predict the number {a.target}? "
             f"Rows used: {len(a.X_train)} for training and {a.n_test_complete} held out for testing, of "
             f"{target['n']} with a value of {a.target} (mean {target['mean']:.3g}, sd {target['sd']:.3g}).")
    sec.headline([
        (f"{rmse[nn]:.3g}", "network RMSE, held-out cases"),
        (f"{rmse[lin]:.3g}", "OLS RMSE"),
        (f"{rmse['difference']:+.3g} [{rmse['ci_low']:+.3g}, {rmse['ci_high']:+.3g}]",
         "network minus OLS RMSE, 95% interval"),
        (f"{r2[nn]:.3f} / {r2[lin]:.3f}", "R², network / OLS"),
    ])
    sec.findings(regression_findings(a)[:MAX_FINDINGS])
    ei = a.results["expected"]
    order = ei.to_frame().sort_values("expected", ascending=False)["variable"].tolist()
    sec.figure("influence", _figure(plot_regression_influence, ei, figsize=(8, 4.5)),
               f"Potential and expected influence per variable, in units of {a.target}.",
               alt=f"Bar chart of potential and expected influence per variable; by expected influence the "
                   f"order is {', '.join(order)}.")


def first_screen_report(a) -> Report:
    """A :class:`~shallownet.report.html.Report` holding only the first screen of the report
    of ``a`` (an :class:`~shallownet.analysis.Analysis` or a
    :class:`~shallownet.analysis_regression.RegressionAnalysis`); its figure is drawn here."""
    import matplotlib

    from ..plots.palette import rc_params

    regression = _is_regression(a)
    rep = new_report(a, "regression network" if regression else "network")
    with matplotlib.rc_context(rc_params()):
        (regression_first_screen if regression else first_screen)(rep, a)
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
