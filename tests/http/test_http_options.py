"""tether-http declares its options; undeclared secrets that do not say "key" are still masked."""

from __future__ import annotations

import json

from click.testing import CliRunner
from tether.cli.main import cli
from tether.config import describe_options


def test_http_options_are_declared_and_printed() -> None:
    out = CliRunner().invoke(cli, ["plugins", "--options", "--json"])
    assert out.exit_code == 0, out.output
    (http,) = [p for p in json.loads(out.output)["plugins"] if p["name"] == "http"]
    rows = {(o["scheme"], o["name"]): o for o in http["options"]}
    assert {"hash", "signed_urls", "verify", "max_attempts"} <= {name for _, name in rows}
    assert rows[("http", "signed_urls")]["choices"] == ["link", "record"]
    assert rows[("http", "hash")]["default"] is False


def test_describe_options_masks_connection_strings_and_sas() -> None:
    shown = describe_options({"connection_string": "AccountName=a;AccountKey=c2VjcmV0", "sas": "sig=abc",
                              "endpoint_url": "http://127.0.0.1"})
    assert shown == {"connection_string": "***", "sas": "***", "endpoint_url": "http://127.0.0.1"}
