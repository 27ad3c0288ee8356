"""Declared driver options: validated, converted, unknown keys named, secrets masked by declaration."""

from __future__ import annotations

import pytest

import tether
from tether import errors
from tether.driver import Driver
from tether.options import Option, mask


class Declared(Driver):
    schemes = ("declared",)
    declared_options = (
        Option("endpoint_url", str, help="where"),
        Option("max_attempts", int, 5, minimum=1),
        Option("passphrase", str, secret=True),
        Option("anon", bool, False),
    )


@pytest.fixture(autouse=True)
def _clean() -> None:
    tether.config.reset()
    yield
    tether.config.reset()


def test_values_are_converted_and_defaults_filled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_DECLARED_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("TETHER_DECLARED_ANON", "yes")
    assert Declared().configured_options() == {"max_attempts": 7, "anon": True}


def test_unknown_key_names_the_nearest_valid_one_and_where_it_was_set() -> None:
    tether.configure("declared", endpoint="http://x")
    with pytest.raises(errors.ConfigError, match=r"tether.configure\('declared'\) option 'endpoint'.*"
                                                 r"did you mean 'endpoint_url'"):
        Declared().configured_options()


def test_wrong_type_of_a_declared_secret_never_shows_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_DECLARED_MAX_ATTEMPTS", "zero")
    with pytest.raises(errors.ConfigError, match="TETHER_DECLARED_MAX_ATTEMPTS must be a whole number"):
        Declared().configured_options()
    monkeypatch.delenv("TETHER_DECLARED_MAX_ATTEMPTS")
    tether.configure("declared", passphrase=12345)
    with pytest.raises(errors.ConfigError, match="passphrase.*got a int") as exc:
        Declared().configured_options()
    assert "12345" not in str(exc.value)


def test_secrets_masked_by_declaration_not_by_name() -> None:
    shown = mask({"passphrase": "p", "endpoint_url": "http://x", "key_prefix": "k"},
                 (*Declared.declared_options, Option("key_prefix", str)))
    assert shown == {"passphrase": "***", "endpoint_url": "http://x", "key_prefix": "k"}
    assert Option("passphrase", str, "dflt", secret=True).describe()["default"] is None


def test_s3_declares_its_options_and_plugins_command_prints_them() -> None:
    from click.testing import CliRunner

    from tether.cli.main import cli

    out = CliRunner().invoke(cli, ["plugins", "--options"]).output
    assert "option s3.endpoint_url: str" in out and "option s3.secret: str [secret]" in out
    assert "option gs.token: object [secret]" in out
