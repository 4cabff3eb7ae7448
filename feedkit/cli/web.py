"""``feedkit web``: the subscribe endpoint of the list feedkit runs itself."""

from __future__ import annotations

import click

from feedkit.cli.common import Context, pass_ctx


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; keep the loopback address behind the city's HTTPS reverse "
                   "proxy.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@pass_ctx
def web(obj: Context, host: str, port: int) -> None:
    """Serve the subscribe, confirm, unsubscribe and preferences pages (Ctrl-C stops).

    A Flask application served by waitress. Needs [web] url (the public https address the
    links in emails point to), [digest] from and [smtp] (for the confirmation emails), and
    $FEEDKIT_SECRET (signs the links). Subscribers are kept in the store; 'feedkit digest
    send' mails them. No request is logged and no log line names an address; -v adds one
    line per confirmation email and subscriber change (confirmed, preferences changed,
    unsubscribed). Warns, as 'feedkit serve' does, when --host is not a loopback address, and
    when [web] url is not https.
    """
    import logging

    from feedkit.mail.message import sender
    from feedkit.web.server import quiet_logging, serve

    sender(obj.config)   # no From for the confirmation emails: refuse now, not 503 per request
    quiet_logging()
    if obj.verbosity > 0:
        logging.getLogger("feedkit.web").setLevel(logging.INFO)
    serve(obj.config, host=host, port=port, info=obj.info, warn=obj.warn)
