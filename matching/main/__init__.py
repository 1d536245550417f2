"""Pages for everyone: start page, health check, language switch, legal pages, errors."""
