#!/usr/bin/python3
"""What the pipeline benchmark runs against: the nginx receiver, the contenders (drophook and
the two scripts a user would write instead), the burst writer and the arrival collector. Every
child is started through `spawn` and stopped by its pid. Used by pipeline.py."""
import json
import os
import select
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, ".build", "release")
DROPHOOK = os.path.join(RELEASE, "drophook")
BENCH = os.path.join(RELEASE, "drophook-bench")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTED = []


def spawn(*args, **kwargs):
    """Starts a long-running child and remembers it, so the run stops it whatever happens."""
    process = subprocess.Popen(*args, **kwargs)
    STARTED.append(process)
    return process


def stop(process, timeout=10):
    """Stops a child we started, by its pid: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_status_kib(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key):
            return int(line.split()[1])
    return 0


class Receiver:
    """nginx on 127.0.0.1, one worker, answering 204 and logging `msec uri body` per request."""

    def __init__(self, work):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.dir, "body"))
        self.port = free_port()
        self.log = os.path.join(self.dir, "access.log")
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(f"""
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format hook escape=json '$msec $uri $request_body';
    access_log {self.log} hook buffer=256k flush=50ms;
    client_body_temp_path {self.dir}/body;
    client_body_buffer_size 64k;
    client_body_in_single_buffer on;
    keepalive_requests 10000000;
    keepalive_timeout 600s;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{ echo_read_request_body; echo_status 204; }}
    }}
}}
""")
        self.process = spawn(["nginx", "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)  # nginx is starting; nothing to await but its port
        else:
            raise SystemExit("nginx did not start; see " + os.path.join(self.dir, "error.log"))
        self.offset = 0

    def url(self, prefix):
        return f"http://127.0.0.1:{self.port}/{prefix}"

    def new_lines(self):
        """Requests logged since the last call: (arrival seconds, uri, body JSON or None)."""
        out = []
        with open(self.log, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for raw in data[:end].splitlines():
            stamp, uri, body = raw.decode("utf-8", "replace").split(" ", 2)
            try:
                payload = json.loads(json.loads('"' + body + '"'))
            except ValueError:
                payload = None
            out.append((float(stamp), uri, payload))
        return out

    def alone(self, requests=50000, concurrency=8):
        """The receiver's own rate, measured with ab (keep-alive, a typical payload)."""
        body = os.path.join(self.dir, "payload.json")
        with open(body, "w") as f:
            f.write(json.dumps({"Topic": "file.created", "Data": {"Path": "x" * 40, "Size": 1024}, "pad": "y" * 700}))
        out = subprocess.run(["ab", "-q", "-k", "-c", str(concurrency), "-n", str(requests), "-p", body,
                              "-T", "application/json", self.url("alone")], capture_output=True, text=True).stdout
        rate = next(float(line.split()[3]) for line in out.splitlines() if line.startswith("Requests per second"))
        deadline = time.time() + 10
        seen = 0
        while seen < requests and time.time() < deadline:
            seen += len(self.new_lines())
            time.sleep(0.05)  # nginx flushes its log buffer every 50 ms
        return rate

    def close(self):
        stop(self.process)


def drophook_path(payload):
    """The path of a drophook SFTP To Go payload, or None for a directory or other topic."""
    if not payload or payload.get("Topic") != "file.created":
        return None
    path = payload.get("Data", {}).get("Path", "")
    return None if path.endswith("/") else path


def baseline_path(payload):
    return payload.get("path") if payload else None


def write_config(base, webhook, url, catch_up=True, secret="bench-secret", watch_extra=""):
    """An agent config in `base`: one watch on `base/drop`, one SFTP To Go webhook. Returns
    (config path, state directory, drop directory)."""
    drop = os.path.join(base, "drop")
    state = os.path.join(base, "state")
    os.makedirs(drop, exist_ok=True)
    config = os.path.join(base, "drophook.yaml")
    with open(config, "w") as f:
        f.write(f"""state_dir: {state}
catch_up: {"true" if catch_up else "false"}
watches:
  - name: uploads
    path: {drop}
{watch_extra}webhooks:
  - name: {webhook}
    url: {url}
    format: sftptogo
""" + (f"    secret: {secret}\n" if secret else ""))
    # The secret is written in the config: drophook runs only while no other user can read it.
    os.chmod(config, 0o600)
    return config, state, drop


class Contender:
    """One way of turning finished files into POSTs, started on a drop directory."""

    def __init__(self, name, work, receiver, watch_extra=""):
        self.name = name
        self.watch_extra = watch_extra
        self.work = os.path.join(work, name)
        self.drop = os.path.join(self.work, "drop")
        os.makedirs(self.drop)
        self.receiver = receiver
        self.url = receiver.url(name)
        self.process = None

    def paths(self, payload):
        return baseline_path(payload)

    def stop(self):
        if self.process:
            stop(self.process)


class Drophook(Contender):
    def start(self):
        config, _, _ = write_config(self.work, "bench", self.url, watch_extra=self.watch_extra)
        self.config = config
        self.log = open(os.path.join(self.work, "agent.log"), "w")
        self.process = spawn([DROPHOOK, "run", "--config", config], stderr=self.log, stdout=self.log)
        # `status --wait` returns once the agent says every watch is in place.
        subprocess.run([DROPHOOK, "status", "--config", config, "--wait", "30s"], check=True, capture_output=True)

    def paths(self, payload):
        return drophook_path(payload)


class InotifywaitCurl(Contender):
    def start(self):
        script = os.path.join(ROOT, "benchmarks", "baselines", "inotifywait-curl.sh")
        self.process = spawn([script, self.drop, self.url], stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        wait_for_line(self.process.stderr, "Watches established", "inotifywait")

    def stop(self):
        # The script is a pipeline (inotifywait | while read); stop its whole process group.
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait()


class WatchdogRequests(Contender):
    def start(self):
        script = os.path.join(ROOT, "benchmarks", "baselines", "watchdog-requests.py")
        self.process = spawn(["/usr/bin/python3", script, self.drop, self.url], stdout=subprocess.PIPE, text=True)
        wait_for_line(self.process.stdout, "ready", "the watchdog script")


def wait_for_line(stream, text, what, timeout=30):
    """Reads a child's output until it contains `text` (its own word that it is ready). Reads
    the raw descriptor: a buffered readline could hold the line while select says no more."""
    deadline = time.time() + timeout
    seen = b""
    fd = stream.fileno()
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.time(), 0))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            raise SystemExit(f"{what} exited before it was ready")
        seen += chunk
        if text.encode() in seen:
            return
    raise SystemExit(f"{what} did not say it was ready within {timeout} s")


def write_burst(root, directories, per_directory, size=1024, existing=False):
    """mkdir then fill, one new directory after another, as a partner's batch upload does; or,
    with `existing`, everything into directories made before the contender started."""
    block = b"x" * size
    written = []
    for d in range(directories):
        directory = os.path.join(root, f"batch-{d:04d}")
        if not existing:
            os.mkdir(directory)
        for n in range(per_directory):
            name = f"batch-{d:04d}/file-{n:05d}.csv"
            with open(os.path.join(root, name), "wb") as f:
                f.write(block)
            written.append(name)
    return written


def await_paths(receiver, contender, paths, limit_seconds=60):
    """Arrival time (nginx's $msec) of each of `paths` at the receiver, waiting for all of them
    up to `limit_seconds`; a path that never arrives is missing from the result."""
    wanted = set(paths)
    arrived = {}
    deadline = time.time() + limit_seconds
    while wanted - arrived.keys() and time.time() < deadline:
        for stamp, uri, payload in receiver.new_lines():
            path = contender.paths(payload) if uri == "/" + contender.name else None
            if path in wanted:
                arrived.setdefault(path, stamp)
        time.sleep(0.01)  # nginx flushes its log every 50 ms; there is nothing finer to await
    return arrived


def collect(receiver, contenders, expected, quiet_seconds, limit_seconds):
    """Reads arrivals until every contender has every expected path, or nothing new has
    arrived for `quiet_seconds`, or `limit_seconds` passed. Returns per-contender arrivals."""
    by_prefix = {"/" + c.name: c for c in contenders}
    arrivals = {c.name: [] for c in contenders}
    seen = {c.name: set() for c in contenders}
    last_new = time.time()
    deadline = time.time() + limit_seconds
    while time.time() < deadline:
        lines = receiver.new_lines()
        if lines:
            last_new = time.time()
        for stamp, uri, payload in lines:
            contender = by_prefix.get(uri)
            if contender is None:
                continue
            path = contender.paths(payload)
            arrivals[contender.name].append((stamp, path))
            if path is not None:
                seen[contender.name].add(path)
        if all(len(seen[c.name]) >= expected for c in contenders):
            break
        if time.time() - last_new > quiet_seconds:
            break
        time.sleep(0.05)  # nginx flushes its log every 50 ms; there is nothing finer to await
    return arrivals
