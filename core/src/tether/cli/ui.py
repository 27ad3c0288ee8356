"""``tether ui``: serve a read-only web view of a catalog (the ``tether[ui]`` extra)."""

from __future__ import annotations

import click

from ..uris import redact
from .main import cli


@cli.command()
@click.option("--catalog", "catalog_opt", default=None, metavar="URI",
              help="Catalog root to show (default: tether's --catalog, $TETHER_CATALOG, or the embedded one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address exposes the catalog to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
@click.pass_context
def ui(ctx: click.Context, catalog_opt: str | None, host: str, port: int, open_browser: bool) -> None:
    """Browse artifacts, versions, assets and diffs in a local web page (read-only).

    Prints the page's URL and serves until Ctrl-C. Listens on 127.0.0.1 unless
    --host says otherwise. Needs the ui extra: pip install "tether[ui]"."""
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from ..ui.server import is_loopback, serve
    except ImportError as exc:
        raise click.ClickException(f"tether ui needs the ui extra ({exc.name} is missing): "
                                   'pip install "tether[ui]"') from None
    from ..catalog import Catalog

    root = catalog_opt or ctx.obj.get("catalog")
    catalog = Catalog(root)  # fails now, with one line, when no driver can serve the root
    if not is_loopback(host):
        click.echo(f"tether: warning: serving on {host}, not on this machine only: anyone who can reach "
                   f"this port can read the catalog {redact(catalog.root)} (names, metadata, object URIs). "
                   "There is no login.", err=True)
    def announce(url: str) -> None:
        click.echo(f"tether ui: serving {redact(catalog.root)}, read-only (Ctrl-C stops)", err=True)
        click.echo(url)  # alone on stdout, for scripts: URL=$(tether ui | head -1)

    serve(root, host, port, open_browser=open_browser, echo=announce)
