"""Property tests: a secret written anywhere in a URI never comes back out.

Secrets are generated in every position a URI can carry one (userinfo, query,
fragment, ``;`` parameters, JDBC-style strings), across schemes, and looked for
in ``redact()``'s output, in every error and warning ``Artifact.add_remote`` and
``Catalog.log`` raise, in the catalog's files and in what the CLI prints
(plain and ``--json``). Secrets are made of upper-case chunks joined by the
characters passwords hold (``@``, ``/``, ``&`` ...); hosts and paths are lower
case, so finding any chunk anywhere is a leak.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import pytest
import tether
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tether.cli import main
from tether.errors import TetherError
from tether.uris import redact

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I or O: cannot spell a parameter name
chunks = st.lists(st.text(alphabet=ALPHABET, min_size=6, max_size=10), min_size=1, max_size=3)


def secret_with(seps: str) -> st.SearchStrategy[tuple[str, list[str]]]:
    """A secret and the chunks it is made of, joined by characters from ``seps``."""
    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, list[str]]:
        parts = draw(chunks)
        out = parts[0]
        for p in parts[1:]:
            out += draw(st.sampled_from(seps)) + p
        # base64 padding; not after an '&', where "&X==" is a parameter X to any parser
        return out + ("" if "&" in out else draw(st.sampled_from(["", "==", "%3D"]))), parts
    return build()


# What passwords hold, an unescaped '@' or '/' included. Not both: in
# "user:P1@P2/P3@host" P2 is the host, for tether as for curl and urllib.
PASSWORD_SEPS = st.sampled_from(["@:!$+=~-.&*,", "/:!$+=~-.&*,"])
VALUE_SEPS = "@/:!$+~-.,&%"      # a parameter value (no '=': 'a&b=c' is two parameters)
NAMES = ["password", "PASSWORD", "pwd", "Pwd", "passwd", "pass%77ord", "token", "access_token", "id_token",
         "refresh_token", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "X-Goog-Signature",
         "sig", "code", "client_secret", "api_key", "apikey", "key", "jsessionid", "auth", "Authorization"]
hosts = st.sampled_from(["db.example.com", "host", "127.0.0.1:5432", "[::1]:8080", "files.example.org"])
buckets = st.sampled_from(["bucket", "my-bucket.data", "bkt"])
paths = st.sampled_from(["", "/", "/data/x.csv", "/a b/c#d", "/user@example.com/f"])
QUERY_SCHEMES = ["https", "http", "ftp", "sftp", "postgresql", "mysql", "mongodb+srv", "redis", "amqp",
                 "jdbc:postgresql", "jdbc:mysql", "x-unknown"]


@st.composite
def secret_uris(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A URI with a secret in one position, and the secret's chunks."""
    position = draw(st.sampled_from(["userinfo", "token-user", "object-store", "query", "fragment",
                                     "spa-fragment", "params", "jdbc-params", "oracle"]))
    name = draw(st.sampled_from(NAMES))
    host, path = draw(hosts), draw(paths)
    if position == "userinfo":
        secret, parts = draw(secret_with(draw(PASSWORD_SEPS)))
        return f"{draw(st.sampled_from(QUERY_SCHEMES))}://user:{secret}@{host}{path}", parts
    if position == "token-user":
        secret, parts = draw(secret_with("-._~"))
        return f"{draw(st.sampled_from(QUERY_SCHEMES))}://{secret}@{host}{path}", parts
    if position == "object-store":  # s3://KEY:SECRET@bucket/key, AWS secrets hold '/' and '+'
        secret, parts = draw(secret_with(draw(PASSWORD_SEPS)))
        scheme = draw(st.sampled_from(["s3", "s3a", "gs", "gcs", "file"]))
        where = "localhost" if scheme == "file" else draw(buckets)
        return f"{scheme}://AKIAKEYID:{secret}@{where}/dir/obj.bin", parts
    secret, parts = draw(secret_with(VALUE_SEPS))
    scheme = draw(st.sampled_from(QUERY_SCHEMES))
    before = draw(st.sampled_from(["", "a=1&", "X-Amz-Date=20260101&"]))
    after = draw(st.sampled_from(["", "&b=2", "#section", "&state=xyz#frag"]))
    if position == "query":
        return f"{scheme}://{host}{path or '/'}?{before}{name}={secret}{after}", parts
    if position == "fragment":  # OAuth implicit flow
        return f"https://{host}/cb#{before}{name}={secret}&state=xyz", parts
    if position == "spa-fragment":
        return f"https://{host}/#/callback?{name}={secret}{after}", parts
    if position == "params":
        return f"{scheme}://{host}/p;{name}={secret};v=1", parts
    if position == "jdbc-params":
        return draw(st.sampled_from([
            f"jdbc:sqlserver://{host};databaseName=db;user=sa;{name}={secret};encrypt=true",
            f"jdbc:postgresql://{host}/db;{name}={secret}",
            f"jdbc:postgresql://{host}/db?user=u&{name}={secret}{after}",
        ])), parts
    return f"jdbc:oracle:thin:scott/{secret}@//{host}/svc", parts


def leaked(parts: list[str], text: str) -> list[str]:
    return [p for p in parts if p in text]


@settings(max_examples=1500, deadline=None)
@given(secret_uris())
def test_redact_removes_every_secret(case: tuple[str, list[str]]) -> None:
    uri, parts = case
    out = redact(uri)
    assert not leaked(parts, out), (uri, out)
    assert redact(out) == out  # redacting twice changes nothing


@pytest.mark.parametrize("uri", [
    "s3://bucket/a?b#c;password=x@y", "gs://b/dir/token=1#2", "file:///tmp/a;pwd=1?code=2",
    "https://host/p/user@example.com/f?a=1&b=%20", "/plain/path?password=kept", "C:/data/x@y",
])
def test_redact_keeps_what_is_not_a_credential(uri: str) -> None:
    # Object keys and file paths are raw: ?, # and ; are part of the name.
    assert redact(uri) == uri


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret_uris(), st.booleans())
def test_secrets_never_reach_errors_warnings_or_the_catalog(case: tuple[str, list[str]], strict: bool) -> None:
    uri, parts = case
    with tempfile.TemporaryDirectory() as root, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        texts = []
        try:
            art = tether.Artifact("sec", strict=strict)
            art.add_remote(uri)
            version = tether.Catalog(root).log(art)
            texts.append(repr(version.assets))
        except TetherError as exc:
            texts.append(str(exc))
        texts += [str(w.message) for w in caught]
        stored = b"".join(p.read_bytes() for p in Path(root).rglob("*") if p.is_file())
    assert not leaked(parts, "\n".join(texts)), (uri, texts)
    assert not leaked(parts, stored.decode("utf-8", "replace")), uri


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    shown = warnings.showwarning  # main() installs its one-line warning printer
    try:
        with pytest.raises(SystemExit) as exit_:
            main(list(args))
    finally:
        warnings.showwarning = shown
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out + out.err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret_uris())
def test_secrets_never_reach_cli_output(capsys: pytest.CaptureFixture[str], case: tuple[str, list[str]]) -> None:
    uri, parts = case
    with tempfile.TemporaryDirectory() as root:
        outputs = []
        for args in (("log", "sec", uri, "--allow-links"), ("log", "sec", uri, "--allow-links", "--json"),
                     ("log", "strict", uri, "--strict"), ("log", "refused", uri),
                     ("show", "sec"), ("show", "sec", "--json"), ("list", "sec", "--json"),
                     ("download", "sec", str(Path(root) / "out"), "--json"), ("status", "sec", "--json")):
            _, text = run_cli(capsys, "--catalog", root, *args)
            assert "Traceback" not in text
            outputs.append(text)
        if outputs[1].startswith("{"):
            # --json stays JSON with the secrets masked (stdout first; stderr's line follows it)
            json.JSONDecoder().raw_decode(outputs[1])
    assert not leaked(parts, "\n".join(outputs)), (uri, outputs)
