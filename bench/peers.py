"""Run one peer tool's "record a remote prefix" once and print JSON (run in the peers' venv).

    python bench/peers.py wandb s3://bucket/prefix/ 10000
    python bench/peers.py comet s3://bucket/prefix/ 10000

Only the call itself is timed (imports excluded). The S3 endpoint comes from the
standard variables the bench sets (AWS_ENDPOINT_URL_S3, AWS_S3_ENDPOINT_URL).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    peer, uri, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("COMET_OFFLINE_DIRECTORY", os.environ.get("TMPDIR", "/tmp"))
    try:
        if peer == "wandb":
            import wandb

            art = wandb.Artifact("bench", type="dataset")
            t = time.perf_counter()
            entries = art.add_reference(uri, max_objects=cap)
            took = time.perf_counter() - t
            n = len(entries)
        elif peer == "comet":
            import comet_ml

            art = comet_ml.Artifact("bench", artifact_type="dataset")
            t = time.perf_counter()
            art.add_remote(uri, max_synced_objects=cap)
            took = time.perf_counter() - t
            n = len(art.assets)
        else:
            raise SystemExit(f"unknown peer {peer}")
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        print(json.dumps({"error": f"{type(exc).__name__}: {str(exc)[:300]}"}))
        return
    print(json.dumps({"seconds": took, "assets": n}))


if __name__ == "__main__":
    main()
