"""``tether ui``: a local, read-only web app over any catalog.

Install with the ``ui`` extra (``pip install "tether[ui]"``: Starlette, Jinja2,
uvicorn). Nothing here is imported by ``import tether``; the modules that need
the web stack import it themselves:

* :mod:`.reader`   – what the pages show, read from the catalog (no web code):
  claims, aliases, tags, manifest headers, cached versions and diffs
* :mod:`.stream`   – one page of a version's assets straight from its manifest text
* :mod:`.present`  – turning catalog values into safe display values (sizes,
  redacted links, clickable only when http(s), pinned URIs, checksum strength)
* :mod:`.views`    – the pages, each a function from request parameters to data,
  served as HTML (``templates/``) and as JSON under ``/api``
* :mod:`.sections` – extra sections of the version page (where runs/lineage plug in)
* :mod:`.app`      – the Starlette application: routes, errors, security headers
* :mod:`.server`   – binding a socket and serving it with uvicorn

The server never writes to the catalog: every route is a GET that reads (the
"check remote now" action computes a status and shows it). With no write
action there is nothing for a cross-site request to forge; a future write
action would need a CSRF token.
"""
