"""Sections of the knowledge-graph page that only it has (its graphs, its answers); a package, not a page file, so
the navigation does not list it."""
