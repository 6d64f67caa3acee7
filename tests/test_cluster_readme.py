"""The README's Ray steps ("A class on several GPU machines"), run as written on this one host.

Two "machines" share the host, each with a home folder of its own (so the token file must really
be copied, as the README says) and Ray's own temporary folder. The commands are read out of the
README's code blocks, so this test fails when the README and Ray disagree. What the test changes
in them, and why:
- HEAD_IP is 127.0.0.1, and the port is a free one instead of 6379;
- `scp HEAD_IP:` is `cp HEAD_HOME/` (both "machines" are this host);
- each `ray start` gets one CPU (so each node holds one replica), its own temporary folder, free
  ports for the head's dashboard and client server, and no usage report; the second machine gets
  an address of its own (127.0.0.2);
- `python app.py`: this Python, the tiny profile, a free port and test folders; no `--share`
  (it needs the internet).
Then: the studio joins and its calls run on both nodes; a node is lost mid-call; the studio
stops; `serve shutdown -y` removes what a teacher's own cluster keeps.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cluster_processes import alive, kill, marked
from tests.conftest import ROOT, free_port, hub_free_env, require_ray_serve

require_ray_serve()

SECTION = "## A class on several GPU machines"
LOGIN = ("teacher", "class-pass")
RETRY_NOTE = "One replica was lost; finished on another."
SECOND_MACHINE_IP = "127.0.0.2"  # loopback too, on Linux
# Ray's own knob for how long a machine retries the head (20 s by default): a refused token is
# then reported in 2 s.
FAST_REFUSAL = {"RAY_gcs_server_port_wait_time_s": "2"}


# --- the README's commands ----------------------------------------------------------------------

def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION + "\n")
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else None]


def code_blocks() -> list[list[str]]:
    """Each ```bash block of the section, as its commands (comments and blank lines left out)."""
    blocks = re.findall(r"```bash\n(.*?)```", readme_section(), re.S)
    return [[re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()
             if line.strip() and not line.strip().startswith("#")] for block in blocks]


def block_with(command: str) -> list[str]:
    found = [block for block in code_blocks() if any(line.startswith(command) for line in block)]
    assert len(found) == 1, f"the README's section should have one block with {command!r}: {code_blocks()}"
    return found[0]


def inline_command(start: str) -> str:
    found = re.findall(r"`(" + re.escape(start) + r"[^`]*)`", readme_section())
    assert found, f"the README's section should say `{start} …`"
    return found[0]


# --- machines on this host ------------------------------------------------------------------------

@dataclass
class Machine:
    name: str
    home: Path
    ray_temp: Path

    @property
    def env(self) -> dict[str, str]:
        """A fresh shell's: no Ray variable of ours (the README's own `export` sets them)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        path = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"  # ray, serve: this venv's
        return hub_free_env(base, HOME=str(self.home), PATH=path, PYTHONUNBUFFERED="1")


@dataclass
class Cluster:
    head: Machine
    node: Machine
    port: int
    dashboard_port: int
    client_port: int

    def script(self, commands: list[str], machine: Machine, app_args: list[str] = ()) -> str:
        lines = []
        for command in commands:
            command = command.replace("scp HEAD_IP:", f"cp {self.head.home}/")
            command = command.replace("HEAD_IP", "127.0.0.1").replace("6379", str(self.port))
            if command.startswith("ray start --head"):
                command += (f" --num-cpus 1 --temp-dir {machine.ray_temp} --disable-usage-stats"
                            f" --dashboard-port {self.dashboard_port} --ray-client-server-port {self.client_port}")
            elif command.startswith("ray start"):
                # An address of its own, as a second machine has: the studio's driver then joins
                # the head's node, as it does on the head (one host's nodes would share one).
                command += (f" --num-cpus 1 --temp-dir {machine.ray_temp} --disable-usage-stats"
                            f" --node-ip-address {SECOND_MACHINE_IP}")
            elif command.startswith("python app.py"):
                words = [w for w in command.split()[2:] if w != "--share"]
                command = " ".join(["exec", sys.executable, str(ROOT / "app.py"), *words, *app_args])
            lines.append(command)
        return "\n".join(["set -euo pipefail", *lines])

    def run(self, commands: list[str], machine: Machine, timeout: float = 120) -> str:
        out = subprocess.run(["bash", "-c", self.script(commands, machine)], env=machine.env, cwd=machine.home,
                             capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, f"{machine.name}: {commands}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
        return out.stdout + out.stderr


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    # Short: Ray's socket paths live under its temporary folder and must stay under 108 characters.
    base = Path(tempfile.mkdtemp(prefix="ray-readme-", dir="/tmp"))
    machines = []
    for name in ("head", "node"):
        home = base / name
        home.mkdir()
        machines.append(Machine(name, home, base / f"{name}-ray"))
    head, node = machines
    ports = [free_port() for _ in range(3)]
    running = Cluster(head, node, *ports)
    try:
        running.run(block_with("ray start --head"), head)
        running.run(block_with("ray start --address"), node)
        yield running
    finally:
        kill(marked([str(head.ray_temp), str(node.ray_temp), f":{running.port} "]))
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def app(cluster, tiny_cache_dir, tmp_path_factory):
    """The README's last block on the head: `ray status`, then the studio, started here and
    waited for by the tests that need it (the first test runs meanwhile)."""
    head = cluster.head
    (head.home / "class-logins.txt").write_text(f"{LOGIN[0]}:{LOGIN[1]}\n")
    outputs = tmp_path_factory.mktemp("readme-outputs")
    port = free_port()
    args = ["--profile", "tiny", "--port", str(port), "--cache-dir", str(tiny_cache_dir), "--outputs", str(outputs)]
    log_path = head.home / "app.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(["bash", "-c", cluster.script(block_with("python app.py"), head, args)],
                                   env=head.env, cwd=head.home, stdout=log_file, stderr=subprocess.STDOUT)
    running = RunningStudio(process, f"http://127.0.0.1:{port}/", log_path)
    yield running
    running.stop()


@dataclass
class RunningStudio:
    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float = 240) -> None:
        def answers() -> bool:
            assert self.process.poll() is None, f"the studio exited:\n{self.log()[-6000:]}"
            try:
                return httpx.get(self.url, timeout=2).status_code in (200, 401, 403)
            except httpx.HTTPError:
                return False

        assert wait_for(answers, timeout, 0.5), f"the studio did not answer:\n{self.log()[-6000:]}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    app.wait()
    return Client(app.url, auth=LOGIN, verbose=False)


# --- the tests ------------------------------------------------------------------------------------

def test_a_studio_without_the_token_is_told_it_was_refused_and_how_to_join(cluster, app, tiny_cache_dir):
    # The case: the head has its token file, the studio was started without the README's
    # `export RAY_AUTH_MODE=token`. (Runs while the README's own studio starts.)
    script = (
        "import sys\n"
        "from studio.settings import load_settings\n"
        "from studio.cluster.front import RayCluster\n"
        "s = load_settings(['--profile', 'tiny', '--cache-dir', sys.argv[1], '--ray', sys.argv[2]], env={})\n"
        "print(RayCluster(s).start(timeout=30), flush=True)\n"
        "import os; os._exit(0)\n"  # the connecting thread stays, by design (see RayCluster.start)
    )
    env = {**cluster.head.env, **FAST_REFUSAL}
    out = subprocess.run([sys.executable, "-c", script, str(tiny_cache_dir), f"127.0.0.1:{cluster.port}"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    problem = out.stdout.strip().splitlines()[-1]
    assert "refused this machine" in problem and "token authentication" in problem, problem
    assert "RAY_AUTH_MODE=token" in problem and "GPU work runs on this machine" in problem, problem
    assert "InvalidAuthToken" in problem


def test_the_studio_joins_runs_on_both_nodes_and_survives_a_lost_node(cluster, app, client):
    log = app.log()
    # `ray status` answered (with the token; it lists the second machine once Ray's autoscaler has
    # seen it, a few seconds after it joined: the replicas below show both machines).
    assert re.search(r"Active:\n\s+1 node_[0-9a-f]+", log), f"`ray status` should list the nodes:\n{log[-4000:]}"
    assert f"Ray Serve: GPU work runs on 2 replica(s) at 127.0.0.1:{cluster.port}" in log, log[-4000:]

    def status() -> dict:
        return client.predict(api_name="/cluster_status")

    def on_node(report: dict) -> bool:
        return report["pid"] in marked([str(cluster.node.ray_temp)])

    assert wait_for(lambda: len(status()["replicas"]) == 2, 30), status()
    replicas = status()["replicas"]
    assert sorted(on_node(r) for r in replicas) == [False, True], replicas  # one replica on each machine
    (on_head,) = [r["replica"] for r in replicas if not on_node(r)]

    # Two students at once: one call on each replica; the second machine is lost mid-call.
    jobs = [client.submit(prompt=f"a lighthouse {n}", width=256, height=256, steps=60, seed=100 * n, image_number=2,
                          api_name="/generate_image") for n in (1, 2)]
    busy = wait_for(lambda: [r for r in status()["replicas"] if on_node(r) and r["running"]], 90)
    assert busy, status()
    kill(marked([str(cluster.node.ray_temp)]))
    lost_at = time.monotonic()

    # The lost replica leaves the list at once (the call that lost it says so), not after ~30 s.
    assert wait_for(lambda: [r["replica"] for r in status()["replicas"]] == [on_head], 10), status()
    assert time.monotonic() - lost_at < 8  # Ray itself takes ~11 s to call the node dead; the board 15 s
    assert status()["started_replicas"] == 2  # the Models tab: "1/2 replica(s)"

    answers = [job.result(timeout=240) for job in jobs]
    assert [[image["seed"] for image in answer["images"]] for answer in answers] == [[100, 101], [200, 201]]
    noted = [answer for answer in answers if any(RETRY_NOTE in image["notes"] for image in answer["images"])]
    assert len(noted) == 1, [[image["notes"] for image in answer["images"]] for answer in answers]
    log = app.log()
    assert "trying once more on another replica" in log
    assert "Task exception was never retrieved" not in log, log[-6000:]


def test_a_teachers_own_cluster_keeps_the_studios_replicas_until_serve_shutdown(cluster, app, client):
    (survivor,) = client.predict(api_name="/cluster_status")["replicas"]
    app.stop()
    time.sleep(2)
    assert alive(survivor["pid"]), "the README says a teacher's cluster keeps the studio's replicas"

    env_line = next(line for line in block_with("ray start --head") if line.startswith("export "))
    shutdown = inline_command("serve shutdown")
    machine = cluster.head
    env = {**machine.env, "RAY_DASHBOARD_ADDRESS": f"http://127.0.0.1:{cluster.dashboard_port}"}
    out = subprocess.run(["bash", "-c", cluster.script([env_line, shutdown], machine)], env=env, cwd=machine.home,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert wait_for(lambda: not alive(survivor["pid"]), 30), "serve shutdown should stop the studio's replicas"
