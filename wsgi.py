"""WSGI entry point: `gunicorn wsgi:app`."""

from pat_manager import create_app

app = create_app()
