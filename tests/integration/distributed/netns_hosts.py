"""Two real hosts, `algo-1` and `algo-2`, for distributed-training tests and benchmarks.

Each host is a Linux network namespace (veth pair, 10.213.7.1 and 10.213.7.2, its own
/etc/hosts, /etc/ssh with host and root keys, /etc/environment, via /etc/netns/<host>/), and
`train` runs there under `unshare --uts --pid --fork --mount-proc`: its own host name, its own
process tree (so sshd, orted and the ranks of one host are invisible to the other), and its own
/opt/ml tree bind-mounted on the same path as the other host's, as in SageMaker's containers.
Traffic only goes between the two namespaces' addresses. `setup_network` / `teardown_network`
create and remove everything (namespaces, /etc/netns entries; processes die with them).
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRAIN = Path(sys.executable).parent / "train"
PROGRAMS = Path(__file__).parent / "programs"
HOSTS = ("algo-1", "algo-2")
ADDRESSES = {"algo-1": "10.213.7.1", "algo-2": "10.213.7.2"}
VETH = {"algo-1": "sm-veth-a1", "algo-2": "sm-veth-a2"}
NETNS_ETC = Path("/etc/netns")
RUN_TIMEOUT = 240
REQUIRED_PROGRAMS = ("ip", "unshare", "mount", "ssh", "ssh-keygen", "mpirun", "hostname")


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def _quiet(*argv: str) -> None:
    subprocess.run(argv, check=False, capture_output=True)


def prerequisites_missing() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None]
    if not Path("/usr/sbin/sshd").exists():
        missing.append("/usr/sbin/sshd (openssh-server)")
    if missing:
        return f"missing {', '.join(missing)}: run scripts/test.sh, which installs them"
    return None


@dataclass
class HostRun:
    """One host's `train` process and what it left behind."""

    host: str
    proc: "subprocess.Popen[str]"
    base: Path
    stdout: str = ""
    stderr: str = ""

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    @property
    def failure(self) -> str | None:
        path = self.base / "output" / "failure"
        return path.read_text() if path.exists() else None

    @property
    def succeeded(self) -> bool:
        return (self.base / "output" / "success").exists()

    def wait(self, timeout: float = RUN_TIMEOUT) -> "HostRun":
        self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        return self

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Cluster:
    """The two hosts; `tree(host)` is a host's own /opt/ml, filled by the test before `start`."""

    root: Path
    runs: list[HostRun] = field(default_factory=list)

    @property
    def mount_point(self) -> Path:
        return self.root / "opt_ml"

    def tree(self, host: str) -> Path:
        return self.root / "hosts" / host / "opt_ml"

    def write_job(
        self,
        program: str,
        hyperparameters: dict[str, Any],
        hosts: tuple[str, ...] = HOSTS,
        programs: tuple[str, ...] = (),
        program_dir: Path = PROGRAMS,
    ) -> None:
        """The same job on every host: code, SDK-encoded hyperparameters, resource config."""
        for host in hosts:
            base = self.tree(host)
            config = base / "input" / "config"
            config.mkdir(parents=True, exist_ok=True)
            values = {k: json.dumps(v) for k, v in hyperparameters.items()}
            values["sagemaker_program"] = json.dumps(program)
            (config / "hyperparameters.json").write_text(json.dumps(values))
            resource = {
                "current_host": host,
                "hosts": list(HOSTS),
                "network_interface_name": "eth0",
                "current_instance_type": "ml.c5.xlarge",
            }
            (config / "resourceconfig.json").write_text(json.dumps(resource))
            (config / "inputdataconfig.json").write_text("{}")
            code = base / "code"
            code.mkdir(parents=True, exist_ok=True)
            for name in (program, *programs):
                shutil.copy(program_dir / name, code / name)

    def host_argv(self, host: str, command: list[str], cwd: Path | None = None) -> list[str]:
        """`command` as a process of `host`: its namespace, host name, PID tree and /opt/ml."""
        inner = (
            f"hostname {host} && mount --bind {shlex.quote(str(self.tree(host)))} "
            f"{shlex.quote(str(self.mount_point))}"
            + (f" && cd {shlex.quote(str(cwd))}" if cwd else "")
            + " && exec "
            + shlex.join(command)
        )
        return [
            "ip", "netns", "exec", host,
            "unshare", "--uts", "--pid", "--fork", "--mount-proc", "--kill-child",
            "sh", "-c", inner,
        ]  # fmt: skip

    def start(self, host: str, **extra_env: str) -> HostRun:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "SAGEMAKER_"))}
        env["SAGEMAKER_BASE_DIR"] = str(self.mount_point)
        env.update(extra_env)
        proc = subprocess.Popen(
            self.host_argv(host, [str(TRAIN)]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        run = HostRun(host, proc, self.tree(host))
        self.runs.append(run)
        return run

    def run_all(self, hosts: tuple[str, ...] = HOSTS, **extra_env: str) -> list[HostRun]:
        runs = [self.start(h, **extra_env) for h in hosts]
        return [r.wait() for r in runs]

    def environment_file(self, host: str) -> str:
        return (NETNS_ETC / host / "environment").read_text()

    def stop(self) -> None:
        for run in self.runs:
            if run.proc.poll() is None:
                run.proc.send_signal(signal.SIGKILL)
                run.proc.communicate()


def _write_etc(host: str, keys: Path) -> None:
    etc = NETNS_ETC / host
    ssh = etc / "ssh"
    ssh.mkdir(parents=True)
    hosts = "127.0.0.1 localhost\n" + "".join(f"{ADDRESSES[h]} {h}\n" for h in HOSTS)
    (etc / "hosts").write_text(hosts)
    (etc / "hostname").write_text(host + "\n")
    (etc / "environment").write_text("")
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / "ssh_host_ed25519_key"))
    shutil.copy(keys / "id_ed25519", ssh / "id_ed25519")
    shutil.copy(keys / "id_ed25519.pub", ssh / "authorized_keys")
    os.chmod(ssh / "id_ed25519", 0o600)
    (ssh / "sshd_config").write_text(
        "Port 22\n"
        f"ListenAddress {ADDRESSES[host]}\n"
        "HostKey /etc/ssh/ssh_host_ed25519_key\n"
        "PermitRootLogin prohibit-password\n"
        "AuthorizedKeysFile /etc/ssh/authorized_keys\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "PidFile none\n"
        "LogLevel ERROR\n"
    )
    (ssh / "ssh_config").write_text(
        "Host *\n"
        "    StrictHostKeyChecking no\n"
        "    UserKnownHostsFile /dev/null\n"
        "    IdentityFile /etc/ssh/id_ed25519\n"
        "    BatchMode yes\n"
        "    LogLevel ERROR\n"
    )


def teardown_network() -> None:
    for host in HOSTS:
        _quiet("ip", "netns", "del", host)
        shutil.rmtree(NETNS_ETC / host, ignore_errors=True)
    _quiet("ip", "link", "del", VETH["algo-1"])


def setup_network(keys: Path) -> None:
    """Both hosts, with a root key pair generated into the directory `keys`."""
    teardown_network()
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / "id_ed25519"))
    for host in HOSTS:
        _run("ip", "netns", "add", host)
    _run("ip", "link", "add", VETH["algo-1"], "type", "veth", "peer", "name", VETH["algo-2"])
    for host in HOSTS:
        _run("ip", "link", "set", VETH[host], "netns", host)
        _run("ip", "-n", host, "link", "set", VETH[host], "name", "eth0")
        _run("ip", "-n", host, "addr", "add", f"{ADDRESSES[host]}/24", "dev", "eth0")
        _run("ip", "-n", host, "link", "set", "eth0", "up")
        _run("ip", "-n", host, "link", "set", "lo", "up")
        _write_etc(host, keys)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


def namespace_pids(host: str) -> list[str]:
    done = subprocess.run(["ip", "netns", "pids", host], capture_output=True, text=True)
    return done.stdout.split()
