"""Sections of the cold-start recommendation page that only it has (a package, not a page file, so the navigation
does not list it)."""
