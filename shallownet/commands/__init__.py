"""Sub-commands of the ``shallownet`` command line."""
