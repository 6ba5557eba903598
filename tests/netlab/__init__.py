"""A dual-stack network lab inside two network namespaces, for Happy Eyeballs measurements.

See :mod:`tests.netlab.lab` for the layout and :mod:`tests.netlab.cases` for what is measured.
"""
