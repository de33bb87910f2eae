"""The web app: pages (Jinja2 + htmx) and the JSON API, built by :func:`core.web.app.create_app`."""
