"""Secrets never reach a manifest, an error, a warning or --json output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SECRETS = ("AKIASECRETKEYID0001", "wJalrXUtnFEMI-K7MDENG-bPxRfiCY", "SessTok3nValue42",
           "hunter2pass", "deadbeefsignature0042")


def test_secrets_in_config_and_links_never_appear_anywhere(moto_server, s3_client, bucket, tmp_path: Path) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/a.bin", Body=b"a")
    home = tmp_path / "home"
    env = {
        "PATH": "/usr/bin:/bin", "TETHER_HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "TETHER_S3_ENDPOINT_URL": moto_server.url, "TETHER_S3_KEY": SECRETS[0],
        "TETHER_S3_SECRET": SECRETS[1], "TETHER_S3_TOKEN": SECRETS[2],
    }
    link = f"https://bob:{SECRETS[3]}@files.example.com/x.csv?X-Amz-Credential=AKIA&X-Amz-Signature={SECRETS[4]}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    outputs = [
        run("log", "sec", f"s3://{bucket}/d/", link, "--allow-links"),
        run("show", "sec", "--json"),
        run("list", "sec", "--json"),
        run("status", "sec", "--json"),
        run("download", "sec", str(tmp_path / "out"), "--json"),
        run("log", "sec2", f"s3://{bucket}/no-such-prefix/"),
        run("log", "sec3", f"s3://no-such-bucket-{bucket}/x"),
        run("plugins", "--json"),
    ]
    assert outputs[0].returncode == 0, outputs[0].stderr
    assert outputs[4].returncode == 0, outputs[4].stderr
    assert outputs[5].returncode == 1 and outputs[6].returncode == 1
    stored = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file() and "cache" not in p.parts)
    text = "".join(o.stdout + o.stderr for o in outputs)
    for secret in SECRETS:
        assert secret not in text, secret
        assert secret.encode() not in stored, secret
    assert "files.example.com/x.csv" in text  # the link itself is kept, minus its credentials


def test_credentials_in_an_endpoint_url_never_appear(moto_server, bucket, tmp_path: Path) -> None:
    port = moto_server.url.rsplit(":", 1)[1]
    env = {"PATH": "/usr/bin:/bin", "TETHER_HOME": str(tmp_path / "home"), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "TETHER_S3_MAX_ATTEMPTS": "1",
           "TETHER_S3_ENDPOINT_URL": f"http://admin:{SECRETS[3]}@127.0.0.1:{port}"}
    for args in (("log", "ep", f"s3://{bucket}/x"), ("log", "ep", f"s3://{bucket}/x", "--strict", "--json")):
        r = subprocess.run([sys.executable, "-m", "tether.cli", *args], capture_output=True, text=True,
                           env=env, timeout=120)
        assert SECRETS[3] not in r.stdout + r.stderr
        assert "Traceback" not in r.stderr
    stored = b"".join(p.read_bytes() for p in (tmp_path / "home").rglob("*") if p.is_file())
    assert SECRETS[3].encode() not in stored


def test_credentials_written_into_an_s3_uri_are_refused_and_never_echoed(moto_server, s3_client, bucket,
                                                                         tmp_path: Path) -> None:
    s3_client.put_object(Bucket=bucket, Key="d/a.bin", Body=b"a")
    env = {"PATH": "/usr/bin:/bin", "TETHER_HOME": str(tmp_path / "home"), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "TETHER_S3_ENDPOINT_URL": moto_server.url}
    # AWS secret keys are base64: about half of them hold a '/', which ends the
    # authority for urllib; the whole key must still be masked.
    secret_parts = ("wJalrXUtnFEMI", "K7MDENG", "bPxRfiCYEXAMPLE")
    secret = "/".join(secret_parts)
    runs = []
    for uri in (f"s3://AKIAIOSFODNN7EXAMPLE:{secret}@{bucket}/d/", f"s3a://AKIAIOSFODNN7EXAMPLE:{secret}@{bucket}/d/a.bin",
                f"s3://AKIAIOSFODNN7EXAMPLE:p%40ss@w0rd@{bucket}/d/"):
        for args in (("log", "x", uri), ("log", "x", uri, "--json"), ("--catalog", uri, "list", "--json")):
            r = subprocess.run([sys.executable, "-m", "tether.cli", *args], check=False, capture_output=True,
                               text=True, env=env, timeout=120)
            assert r.returncode == 1 and r.stderr.startswith("tether: error: ") and r.stderr.count("\n") == 1, r
            assert "credentials in s3:// URIs are not supported" in r.stderr
            runs.append(r.stdout + r.stderr)
    text = "".join(runs)
    for part in (*secret_parts, "AKIAIOSFODNN7EXAMPLE", "w0rd", "p%40ss"):
        assert part not in text, part
