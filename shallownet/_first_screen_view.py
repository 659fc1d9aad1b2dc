"""The notebook view both analysis classes share: :meth:`show` and ``_repr_html_``."""

from __future__ import annotations


class FirstScreenView:
    """Adds the report's first screen inline to an analysis (see :mod:`shallownet.report.notebook`)."""

    def show(self, dpi: int = 100):
        """Display the report's first screen inline (a Jupyter notebook): the question, the
        headline comparison with its 95% interval (for classes: the accuracy of always predicting
        the majority class; for a number: RMSE and R^2 against OLS and the RMSE of always
        predicting the training mean), the findings and the first-screen figure (embedded PNG
        with alt text).

        Under IPython it is displayed and None is returned; without IPython (or outside an
        IPython session) the HTML fragment is returned as a string. Writing the whole report is
        :func:`shallownet.report.build.write_analysis`.

        Parameters
        ----------
        dpi : int
            Resolution of the embedded figure.

        Returns
        -------
        None or str
        """
        from .report.notebook import show

        return show(self, dpi=dpi)

    def _repr_html_(self) -> str:
        """The report's first screen as HTML: what a notebook shows for an analysis left as
        the last expression of a cell (the same as :meth:`show`)."""
        from .report.notebook import first_screen_html

        return first_screen_html(self)
