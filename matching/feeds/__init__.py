"""Atom feeds of open needs, for the association's website and for feed readers."""
