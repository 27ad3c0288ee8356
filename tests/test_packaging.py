"""The built wheels, installed in a fresh venv: `pip install tether` alone gives a working local setup.

Editable installs hide packaging mistakes (a module left out of a wheel, a
missing entry point, an undeclared dependency); this installs what users get.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheels_install_and_work_on_their_own(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    for pkg in ("core", "plugins/local", "plugins/s3"):
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT / pkg)],
                       check=True, capture_output=True, timeout=600)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    tether = env_dir / "bin" / "tether"
    # `pip install tether` alone: tether-local comes with it, through its declared dependency
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--find-links", str(wheels), "tether==0.1.0"],
                   check=True, capture_output=True, timeout=600)
    plugins = json.loads(subprocess.run([str(tether), "plugins", "--json"], check=True, capture_output=True,
                                        text=True, cwd=tmp_path).stdout)
    assert [(p["distribution"], p["schemes"], p["error"]) for p in plugins["plugins"]] == \
        [("tether-local", ["file"], None)]
    r = subprocess.run([str(tether), "log", "x", "s3://bucket/key"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.strip() == "tether: error: s3:// needs: pip install tether-s3"
    # the whole loop with only the installed wheels, on the embedded catalog
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a")
    env = {"PATH": "/usr/bin:/bin", "TETHER_HOME": str(tmp_path / "home")}
    assert subprocess.run([str(tether), "log", "ds", "--upload", str(data)], env=env, capture_output=True).returncode == 0
    assert subprocess.run([str(tether), "download", "ds", str(tmp_path / "out")], env=env,
                          capture_output=True).returncode == 0
    assert (tmp_path / "out" / "a.txt").read_text() == "a"
    # a driver package installed later is found through its entry point
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--find-links", str(wheels), "tether-s3==0.1.0"],
                   check=True, capture_output=True, timeout=900)
    plugins = json.loads(subprocess.run([str(tether), "plugins", "--json"], check=True, capture_output=True,
                                        text=True).stdout)
    assert {p["distribution"] for p in plugins["plugins"]} == {"tether-local", "tether-s3"}
    light = subprocess.run([str(py), "-c", "import sys, tether; print(sorted(m for m in sys.modules "
                                           "if m.split('.')[0] in {'boto3','botocore','s3fs','aiobotocore'}))"],
                           check=True, capture_output=True, text=True).stdout.strip()
    assert light == "[]"
