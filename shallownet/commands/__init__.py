"""Sub-commands of the ``shallownet`` command line."""


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""
