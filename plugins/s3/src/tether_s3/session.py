"""Building the s3fs filesystem tether-s3 calls S3 through, from the options
tether reads (``tether.configure("s3", ...)``, ``TETHER_S3_<OPTION>``,
``[s3]`` in config.toml): credentials, endpoint, retries, timeouts, TLS."""

from __future__ import annotations

from typing import Any

from tether.driverkit import OptionReader
from tether.objectstore import NO_FSSPEC_CACHES


def s3_filesystem(bucket: str | None, options: dict[str, Any]):
    """An s3fs filesystem for ``bucket``. Every option is converted to its type
    here, so a mistake (``max_attempts = "x"``, ``endpoint_url = 5``) is a
    ConfigError naming where it was set, not a TypeError from inside botocore."""
    import s3fs  # lazy: keeps `import tether` free of boto

    opt = OptionReader("s3", bucket, options)
    config_kwargs: dict[str, Any] = {
        "max_pool_connections": opt.get_int("max_pool_connections", 64, minimum=1),
        # Total attempts, as AWS_MAX_ATTEMPTS and the AWS config file count them (botocore's
        # Config "max_attempts" counts retries only: 1 there would still retry once).
        "retries": {"total_max_attempts": opt.get_int("max_attempts", 5, minimum=1), "mode": "standard"},
    }
    for t in ("connect_timeout", "read_timeout"):
        seconds = opt.get_float(t, minimum=0.0)
        if seconds is not None:
            config_kwargs[t] = seconds
    style = opt.get_choice("addressing_style", ("auto", "virtual", "path"))
    if style:
        config_kwargs["s3"] = {"addressing_style": style}
    client_kwargs: dict[str, Any] = {}
    region = opt.get_str("region")
    if region:
        client_kwargs["region_name"] = region
    if "verify" in options:  # true / false, or the path of a CA bundle
        v = options["verify"]
        client_kwargs["verify"] = v if isinstance(v, str) and v.strip().lower() not in (
            "true", "false", "0", "1", "yes", "no", "on", "off", "") else opt.get_bool("verify", True)
    kwargs: dict[str, Any] = {
        "anon": opt.get_bool("anon"),
        "config_kwargs": config_kwargs,
        "client_kwargs": client_kwargs,
        **NO_FSSPEC_CACHES,
        "requester_pays": opt.get_bool("requester_pays"),
    }
    for ours, theirs in (("endpoint_url", "endpoint_url"), ("profile", "profile"), ("key", "key"),
                         ("secret", "secret"), ("token", "token")):
        value = opt.get_str(ours)
        if value:
            kwargs[theirs] = value
    return s3fs.S3FileSystem(**kwargs)
