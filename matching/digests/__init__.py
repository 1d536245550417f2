"""Digest settings and the pages behind links in mail: unsubscribe, "Ich kann helfen", "Zusagen"."""
