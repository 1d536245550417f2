"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``.

A setting that must not run stops the start with one line naming it, never a traceback.
"""

from config import ConfigError, stop_the_start
from matching import create_app

try:
    app = create_app()
except ConfigError as error:
    stop_the_start(error)
