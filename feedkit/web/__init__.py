"""``feedkit web``: the endpoint of the list feedkit runs itself (subscribe, confirm,
unsubscribe, preferences), a Flask application. ``feedkit web`` serves it with waitress; any
other WSGI server can import it: ``waitress-serve --call feedkit.web:create_app`` or
``gunicorn 'feedkit.web:create_app()'`` (config from ``$FEEDKIT_CONFIG`` or ./config.toml).

May import: ``mail``, ``digest``, ``subscribers``, ``editorial``, ``store``, ``text``,
``config`` and the shared modules. Only the CLI imports it."""

from __future__ import annotations


def create_app(*args, **kwargs):
    """See :func:`feedkit.web.app.create_app` (imported lazily: the CLI loads Flask only for
    ``feedkit web``)."""
    from feedkit.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)
