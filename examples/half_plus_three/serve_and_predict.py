"""Start `serve` on a trained /opt/ml tree, print one prediction over HTTP, stop the server.

    python examples/half_plus_three/serve_and_predict.py /path/to/opt_ml
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_ping(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"serve exited with code {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"serve did not answer /ping within {READY_TIMEOUT_SECONDS} s")


def main() -> None:
    base = Path(sys.argv[1]).resolve()
    port = free_port()
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SAGEMAKER_BIND_TO_PORT": str(port)}
    serve = Path(sys.executable).with_name("serve")
    server = subprocess.Popen([str(serve)], env=env)
    try:
        wait_for_ping(port, server)
        body = json.dumps({"instances": [1.0, 2.0, 5.0]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            answer = json.loads(reply.read())
        print(f"== prediction for x = [1.0, 2.0, 5.0] (expect about 0.5 x + 3): {answer}")
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        print(f"== serve stopped (exit code {code})")


if __name__ == "__main__":
    main()
