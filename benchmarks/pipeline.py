#!/usr/bin/python3
"""drophook's end-to-end benchmark, beside what a user would script instead.

Runs on loopback, against nginx answering 204 (with the echo module, so it can log each
request body): the receiver alone, a burst of files in new directories through drophook and
through two baselines (inotifywait + curl, watchdog + requests), drophook's latency at a steady
rate, and a large backlog owed to a dead endpoint. Writes Markdown and JSON.

Started by `benchmarks/run`, which installs the packages and builds the release binaries.
"""
import argparse
import json
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
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


def write_config(base, webhook, url, catch_up=True, secret="bench-secret"):
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
webhooks:
  - name: {webhook}
    url: {url}
    format: sftptogo
""" + (f"    secret: {secret}\n" if secret else ""))
    return config, state, drop


class Contender:
    """One way of turning finished files into POSTs, started on a drop directory."""

    def __init__(self, name, work, receiver):
        self.name = name
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
        config, _, _ = write_config(self.work, "bench", self.url)
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


def burst(work, receiver, kind, directories, per_directory, existing=False):
    name = ("drophook" if kind is Drophook else kind.__name__.lower()) + ("-existing" if existing else "")
    contender = kind(name, work, receiver)
    try:
        if existing:
            for d in range(directories):
                os.mkdir(os.path.join(contender.drop, f"batch-{d:04d}"))
        contender.start()
        pid = contender.process.pid
        cpu_before = cpu_seconds(pid)
        start = time.time()
        written = write_burst(contender.drop, directories, per_directory, existing=existing)
        wrote = time.time() - start
        arrivals = collect(receiver, [contender], len(written), quiet_seconds=15, limit_seconds=1800)[contender.name]
        result = {"files": len(written), "write_seconds": round(wrote, 2)}
        if kind is Drophook:
            result["cpu_seconds"] = round(cpu_seconds(pid) - cpu_before, 2)
            result["peak_rss_mib"] = round(proc_status_kib(pid, "VmHWM:") / 1024, 1)
    finally:
        contender.stop()
    files = [p for _, p in arrivals if p is not None]
    unique = set(files)
    result.update({
        "webhooks": len(arrivals),
        "missed": len(set(written) - unique),
        "duplicated": len(files) - len(unique),
        "seconds": round(max((t for t, _ in arrivals), default=start) - start, 2),
    })
    result["files_per_second"] = round(len(unique) / result["seconds"], 1) if result["seconds"] > 0 else 0
    if kind is Drophook:
        result["cpu_us_per_webhook"] = round(result["cpu_seconds"] * 1e6 / max(len(arrivals), 1), 1)
        first = min(t for t, _ in arrivals)
        result["webhooks_per_second"] = round(len(arrivals) / max(max(t for t, _ in arrivals) - first, 1e-3), 1)
    return result


def latency(work, receiver, rate, seconds):
    contender = Drophook("drophook-latency", work, receiver)
    try:
        contender.start()
        steady = os.path.join(contender.drop, "steady")
        os.mkdir(steady)
        closed = {}
        block = b"x" * 1024
        start = time.time()
        for n in range(rate * seconds):
            target = start + n / rate
            pause = target - time.time()
            if pause > 0:
                time.sleep(pause)  # the writer's own pace: one file every 1/rate s
            name = f"steady/file-{n:06d}.csv"
            with open(os.path.join(contender.drop, name), "wb") as f:
                f.write(block)
            closed[name] = time.time()
        arrivals = collect(receiver, [contender], len(closed), quiet_seconds=10, limit_seconds=120)[contender.name]
    finally:
        contender.stop()
    delays = sorted((stamp - closed[path]) * 1000 for stamp, path in arrivals if path in closed)
    quantile = lambda q: round(delays[min(len(delays) - 1, int(q * len(delays)))], 1)
    return {"rate": rate, "seconds": seconds, "files": len(closed), "received": len(delays),
            "p50_ms": quantile(0.50), "p99_ms": quantile(0.99), "max_ms": round(delays[-1], 1),
            "note": "arrival times are nginx's $msec, 1 ms resolution"}


def drain(work, receiver, count):
    """Delivery alone: `count` events already in the outbox, sent by a fresh agent to the
    receiver. Separates the cost of a webhook from the cost of watching."""
    base = os.path.join(work, "drain")
    config, state, _ = write_config(base, "bench", receiver.url("drain"), catch_up=False)
    subprocess.run([BENCH, "backlog", state, str(count), "bench"], check=True, capture_output=True)
    log = open(os.path.join(base, "agent.log"), "w")
    process = spawn([DROPHOOK, "run", "--config", config], stderr=log, stdout=log)
    start = time.time()
    seen = 0
    first = last = None
    deadline = time.time() + 600
    while seen < count and time.time() < deadline:
        for stamp, uri, _ in receiver.new_lines():
            if uri == "/drain":
                seen += 1
                first = stamp if first is None else first
                last = stamp
        time.sleep(0.05)  # nginx flushes its log every 50 ms
    cpu = cpu_seconds(process.pid)
    peak = proc_status_kib(process.pid, "VmHWM:") / 1024
    stop(process, timeout=30)
    return {"deliveries": count, "received": seen, "seconds": round(last - start, 2) if last else None,
            "webhooks_per_second": round(seen / max(last - first, 1e-3), 1) if last else 0,
            "cpu_seconds": round(cpu, 2), "cpu_us_per_webhook": round(cpu * 1e6 / max(seen, 1), 1),
            "peak_rss_mib": round(peak, 1)}


def backlog(work, count, watch_seconds):
    """`count` deliveries owed to an endpoint nobody listens on: RSS over time, and how fast
    the CLI shows the newest page of the delivery log while the agent works through them."""
    base = os.path.join(work, "backlog")
    dead = free_port()  # bound and released: nothing listens on it
    config, state, _ = write_config(base, "dead", f"http://127.0.0.1:{dead}/hook", catch_up=False, secret=None)
    fill_start = time.time()
    subprocess.run([BENCH, "backlog", state, str(count), "dead"], check=True, capture_output=True)
    fill = time.time() - fill_start
    log = open(os.path.join(base, "agent.log"), "w")
    started = time.time()
    process = spawn([DROPHOOK, "run", "--config", config], stderr=log, stdout=log)
    subprocess.run([DROPHOOK, "status", "--config", config, "--wait", "60s"], check=True, capture_output=True)
    ready = time.time() - started
    samples = []
    page_times = []
    end = time.time() + watch_seconds
    while time.time() < end:
        samples.append(proc_status_kib(process.pid, "VmRSS:") / 1024)
        t = time.time()
        subprocess.run([DROPHOOK, "deliveries", "--config", config], check=True, capture_output=True)
        page_times.append((time.time() - t) * 1000)
        time.sleep(1)  # one sample a second
    status_start = time.time()
    subprocess.run([DROPHOOK, "status", "--config", config], capture_output=True)
    status_ms = (time.time() - status_start) * 1000
    peak = proc_status_kib(process.pid, "VmHWM:") / 1024
    stop(process, timeout=30)
    db = os.path.join(state, "outbox.sqlite")
    return {"deliveries": count, "fill_seconds": round(fill, 1), "agent_ready_seconds": round(ready, 2),
            "rss_mib_first": round(samples[0], 1), "rss_mib_last": round(samples[-1], 1),
            "rss_mib_max": round(max(samples), 1), "peak_rss_mib": round(peak, 1),
            "deliveries_page_ms_median": round(statistics.median(page_times), 1),
            "deliveries_page_ms_max": round(max(page_times), 1), "status_ms": round(status_ms, 1),
            "database_mib": round(os.path.getsize(db) / 2**20, 1)}


def machine():
    return {"cores": os.cpu_count(), "kernel": platform.release(),
            "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}


def markdown(r):
    m = r["machine"]
    lines = [f"drophook pipeline benchmark, {m['date']}, commit {m['commit']}: {m['cores']} cores ({m['cpu']}), Linux {m['kernel']}.",
             f"Receiver: nginx answering 204 on loopback, alone {r['receiver_requests_per_second']:,.0f} requests/s (ab, keep-alive, 8 connections).",
             "", f"Bursts: {r['burst']['drophook']['files']:,} files of 1 KiB written as fast as the disk takes them, into new directories (mkdir, then fill, one after another), then again into directories made beforehand, where no watcher can miss a file for want of a watch.",
             "", "| run | files delivered | missed | duplicated | first write → last webhook (s) | files delivered per second | drophook's rate ÷ this one's |", "|---|---|---|---|---|---|---|"]
    for key, title in [("burst", "into new directories"), ("burst_existing", "into directories that already exist")]:
        if key not in r:
            continue
        ours = r[key]["drophook"]["files_per_second"]
        for name, label in [("drophook", "drophook"), ("inotifywaitcurl", "inotifywait + curl"), ("watchdogrequests", "watchdog + requests")]:
            b = r[key].get(name)
            if not b:
                continue
            ratio = "" if name == "drophook" else f"{ours / b['files_per_second']:.1f}×" if b["files_per_second"] else "∞"
            lines.append(f"| {title}: {label} | {b['files'] - b['missed']:,} of {b['files']:,} | {b['missed']:,} | {b['duplicated']} | {b['seconds']} | {b['files_per_second']:,} | {ratio} |")
    d = r["burst"]["drophook"]
    lines += ["", "| drophook measurement | result |", "|---|---|",
              f"| webhooks in the burst (files and directories) | {d['webhooks']:,} at {d['webhooks_per_second']:,} webhooks/s |",
              f"| agent CPU per delivered webhook | {d['cpu_us_per_webhook']} µs ({d['cpu_seconds']} s in all) |",
              f"| agent peak RSS during the burst | {d['peak_rss_mib']} MiB |"]
    if "drain" in r:
        g = r["drain"]
        lines.append(f"| delivery alone: {g['deliveries']:,} events already queued, sent by a fresh agent | {g['webhooks_per_second']:,} webhooks/s, {g['cpu_us_per_webhook']} µs CPU each (start-up included), peak RSS {g['peak_rss_mib']} MiB |")
    if "latency" in r:
        l = r["latency"]
        lines.append(f"| writer's close() → receiver, {l['rate']} files/s for {l['seconds']} s | p50 {l['p50_ms']} ms, p99 {l['p99_ms']} ms, max {l['max_ms']} ms ({l['received']}/{l['files']} received) |")
    if "backlog" in r:
        b = r["backlog"]
        lines += [f"| {b['deliveries']:,} deliveries owed to a dead endpoint: agent RSS | {b['rss_mib_first']} → {b['rss_mib_last']} MiB (max {b['rss_mib_max']}), database {b['database_mib']} MiB |",
                  f"| … `drophook deliveries` (newest page, whole CLI process) | median {b['deliveries_page_ms_median']} ms, max {b['deliveries_page_ms_max']} ms |",
                  f"| … `drophook status` | {b['status_ms']} ms; agent ready after {b['agent_ready_seconds']} s |"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--directories", type=int, default=100)
    parser.add_argument("--files-per-directory", type=int, default=100)
    parser.add_argument("--drain", type=int, default=20_000)
    parser.add_argument("--latency-rate", type=int, default=100)
    parser.add_argument("--latency-seconds", type=int, default=60)
    parser.add_argument("--backlog", type=int, default=1_000_000)
    parser.add_argument("--backlog-seconds", type=int, default=20)
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--render-only", action="store_true", help="rewrite latest.md from latest.json")
    args = parser.parse_args()
    if args.render_only:
        with open(os.path.join(args.out, "latest.json")) as f:
            table = markdown(json.load(f))
        with open(os.path.join(args.out, "latest.md"), "w") as f:
            f.write(table)
        print(table)
        return
    for binary in (DROPHOOK, BENCH):
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary} is missing: run benchmarks/run, which builds it (swift build -c release)")

    # SIGTERM and Ctrl-C unwind through the `finally` below, which stops what was started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="drophook-pipeline-")
    receiver = Receiver(work)
    results = {"machine": machine()}
    try:
        results["receiver_requests_per_second"] = receiver.alone()
        print(f"receiver alone: {results['receiver_requests_per_second']:,.0f} requests/s", flush=True)
        kinds = [Drophook] + ([] if args.skip_baselines else [InotifywaitCurl, WatchdogRequests])
        for existing, key in [(False, "burst"), (True, "burst_existing")]:
            results[key] = {}
            for kind in kinds:
                name = "drophook" if kind is Drophook else kind.__name__.lower()
                results[key][name] = burst(work, receiver, kind, args.directories, args.files_per_directory, existing)
                print(f"{key} {name}: {results[key][name]}", flush=True)
        if args.drain > 0:
            results["drain"] = drain(work, receiver, args.drain)
            print(f"drain: {results['drain']}", flush=True)
        if args.latency_seconds > 0:
            results["latency"] = latency(work, receiver, args.latency_rate, args.latency_seconds)
            print(f"latency: {results['latency']}", flush=True)
        if args.backlog > 0:
            results["backlog"] = backlog(work, args.backlog, args.backlog_seconds)
            print(f"backlog: {results['backlog']}", flush=True)
    finally:
        for process in reversed(STARTED):
            if process.poll() is None and process.args and "inotifywait-curl" in str(process.args[0]):
                os.killpg(process.pid, signal.SIGTERM)
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump(results, f, indent=2)
    table = markdown(results)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
