"""``tether info`` shows each installed driver's declared options: the value in effect, the layer
that set it, and for a secret only whether it is set (issue 15 §2), with the real S3 and Azure drivers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tether
from click.testing import CliRunner
from tether.cli import cli
from tether.config import describe_options
from tether_azure import AzureDriver
from tether_s3 import S3Driver

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
CONN = "AccountName=dev;AccountKey=c2VjcmV0LWF6dXJlLWtleQ=="
SAS = "sv=2024&sig=QmFzZTY0U2lnbmF0dXJl"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """One S3 option per layer, and secrets set through each layer that can carry them."""
    home = Path(os.environ["TETHER_HOME"])
    (home / "config.toml").write_text('[s3]\nprofile = "team"\naddressing_style = "path"\n'
                                      f'[az]\nsas_token = "{SAS}"\n', encoding="utf-8")
    monkeypatch.setenv("TETHER_S3_REGION", "eu-west-1")
    monkeypatch.setenv("TETHER_S3_ADDRESSING_STYLE", "virtual")  # env over the file
    monkeypatch.setenv("TETHER_AZ_CONNECTION_STRING", CONN)
    tether.configure("s3", secret=SECRET, max_pool_connections=8)


def info(*args: str) -> str:
    result = CliRunner().invoke(cli, ["info", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def option_lines(out: str) -> dict[str, str]:
    return {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines() if line.startswith("    ")}


def test_info_prints_each_option_with_its_value_and_where_it_was_set(configured: None) -> None:
    out = info()
    lines = option_lines(out)
    assert lines["s3.region"] == "= eu-west-1 [env]"
    assert lines["s3.profile"] == "= team [config file]"
    assert lines["s3.addressing_style"] == "= virtual [env]"
    assert lines["s3.max_pool_connections"] == "= 8 [configure()]"
    assert lines["s3.max_attempts"] == "= 5 [default]"
    assert lines["s3.endpoint_url"] == "not set"
    assert lines["s3.secret"] == "(secret) set [configure()]"
    assert lines["s3.key"] == "(secret) not set"
    assert lines["az.connection_string"] == "(secret) set [env]"
    assert lines["az.sas_token"] == "(secret) set [config file]"
    for secret in (SECRET, CONN, SAS, "c2VjcmV0", "QmFzZTY0"):
        assert secret not in out


def test_info_json_carries_values_and_sources_and_never_a_secret(configured: None) -> None:
    out = info("--json")
    for secret in (SECRET, CONN, SAS, "c2VjcmV0", "QmFzZTY0"):
        assert secret not in out
    drivers = {d["distribution"]: d for d in json.loads(out)["drivers"]}
    s3 = {o["name"]: o for o in drivers["tether-s3"]["options"]}
    assert (s3["region"]["value"], s3["region"]["source"]) == ("eu-west-1", "env")
    assert (s3["profile"]["value"], s3["profile"]["source"]) == ("team", "config file")
    assert (s3["max_pool_connections"]["value"], s3["max_pool_connections"]["source"]) == (8, "configure()")
    assert (s3["max_attempts"]["value"], s3["max_attempts"]["source"]) == (5, "default")
    assert s3["secret"]["set"] is True and s3["secret"]["source"] == "configure()" and "value" not in s3["secret"]
    assert s3["key"]["set"] is False and "value" not in s3["key"]
    az = {o["name"]: o for o in drivers["tether-azure"]["options"]}
    assert az["connection_string"]["set"] is True and az["connection_string"]["source"] == "env"
    assert az["sas_token"]["source"] == "config file" and "value" not in az["sas_token"]


def test_info_names_a_bad_value_and_an_unknown_option_without_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_S3_MAX_ATTEMPTS", "many")
    monkeypatch.setenv("TETHER_S3_REGOIN", "eu-west-1")
    tether.configure("s3", secret=987654321)  # a secret of the wrong type: named, still not shown
    out = info()
    assert "987654321" not in out and "987654321" not in info("--json")
    lines = option_lines(out)
    assert lines["s3.secret"] == "(secret) INVALID [configure()]: tether.configure('s3') option 'secret' must be a string, got a int"
    assert lines["s3.max_attempts"].startswith("INVALID [env]: environment variable TETHER_S3_MAX_ATTEMPTS must be")
    assert "did you mean 'region'?" in lines["s3.regoin"]
    s3 = {o["name"]: o for d in json.loads(info("--json"))["drivers"] if d["distribution"] == "tether-s3"
          for o in d["options"]}
    assert s3["regoin"]["error"] and "value" not in s3["regoin"]


def test_describe_options_masks_by_declaration() -> None:
    values = {"region": "eu-west-1", "secret": SECRET, "key": "AKIA", "connection_string": CONN,
              "account_name": "dev", "regoin": "x"}
    assert describe_options(values, S3Driver.declared_options) == {
        "region": "eu-west-1", "secret": "***", "key": "***", "connection_string": "***",
        "account_name": "***", "regoin": "***"}  # undeclared keys of a declaring driver: unknown content
    assert describe_options(values, AzureDriver.declared_options)["account_name"] == "dev"
    # a driver that declares nothing keeps the name rule
    assert describe_options(values) == {**values, "secret": "***", "key": "***", "connection_string": "***"}
