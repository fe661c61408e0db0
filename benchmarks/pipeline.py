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
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from harness import (BENCH, DROPHOOK, ROOT, STARTED, Drophook, InotifywaitCurl, Receiver, WatchdogRequests, await_paths, collect,
                     cpu_seconds, free_port, proc_status_kib, spawn, stop, write_burst, write_config)


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


def checksum_stall(work, receiver, large_mib=250, rounds=5):
    """`sha256: true`: a 1-byte file closed right after a `large_mib` file, against a 1-byte file
    alone. Close → receiver for the small file, median of `rounds` each, page cache warm."""
    contender = Drophook("drophook-sha256", work, receiver, watch_extra="    sha256: true\n")
    block = b"z" * (1 << 20)
    alone, after = [], []
    try:
        contender.start()
        for n in range(rounds):
            for kind, delays in (("alone", alone), ("after", after)):
                expected = [f"small-{kind}-{n}.txt"]
                if kind == "after":
                    expected.append(f"large-{n}.bin")
                    with open(os.path.join(contender.drop, expected[1]), "wb") as f:
                        for _ in range(large_mib):
                            f.write(block)
                with open(os.path.join(contender.drop, expected[0]), "wb") as f:
                    f.write(b"1")
                closed = time.time()
                arrived = await_paths(receiver, contender, expected)
                if expected[0] in arrived:
                    delays.append((arrived[expected[0]] - closed) * 1000)
                os.remove(os.path.join(contender.drop, expected[-1]))
    finally:
        contender.stop()
    median = lambda values: round(statistics.median(values), 1) if values else None
    return {"large_mib": large_mib, "rounds": rounds, "small_alone_ms_median": median(alone),
            "small_after_large_ms_median": median(after), "small_after_large_ms_max": round(max(after), 1) if after else None,
            "note": "close of the 1-byte file to its arrival (nginx's $msec, 1 ms resolution)"}


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


def jetstream_burst(work, directories, per_directory):
    """The burst into existing directories again, published by the agent into a single-node
    JetStream stream (each message acknowledged) instead of POSTed: the stream's message count
    is read from nats-server's monitoring endpoint."""
    base = os.path.join(work, "jetstream")
    drop = os.path.join(base, "drop")
    os.makedirs(drop)
    for d in range(directories):
        os.mkdir(os.path.join(drop, f"batch-{d:04d}"))
    port, monitor = free_port(), free_port()
    server = spawn(["/usr/sbin/nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor),
                    "-sd", os.path.join(base, "store")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = os.path.join(base, "drophook.yaml")
    with open(config, "w") as f:
        f.write(f"""state_dir: {os.path.join(base, "state")}
watches:
  - name: uploads
    path: {drop}
nats:
  - name: stream
    servers: [nats://127.0.0.1:{port}]
    format: sftptogo
    secret: bench-secret
    create_stream: {{name: BENCH}}
""")
    os.chmod(config, 0o600)

    def stored():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/jsz?streams=true", timeout=5) as answer:
                details = json.load(answer).get("account_details") or []
            return sum(s["state"]["messages"] for a in details for s in a.get("stream_detail") or [])
        except OSError:
            return 0

    log = open(os.path.join(base, "agent.log"), "w")
    process = spawn([DROPHOOK, "run", "--config", config], stderr=log, stdout=log)
    try:
        subprocess.run([DROPHOOK, "status", "--config", config, "--wait", "30s"], check=True, capture_output=True)
        cpu_before = cpu_seconds(process.pid)
        start = time.time()
        written = write_burst(drop, directories, per_directory, existing=True)
        count = last = 0
        deadline = time.time() + 600
        while count < len(written) and time.time() < deadline:
            now = stored()
            if now != count:
                count, last = now, time.time()
            time.sleep(0.02)  # polling the server's monitoring endpoint; nothing to wait on
        cpu = cpu_seconds(process.pid) - cpu_before
        seconds = max(last - start, 1e-3)
        return {"files": len(written), "stored": count, "seconds": round(seconds, 2),
                "events_per_second": round(count / seconds, 1), "cpu_seconds": round(cpu, 2),
                "cpu_us_per_event": round(cpu * 1e6 / max(count, 1), 1)}
    finally:
        stop(process, timeout=30)
        stop(server)


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
    if "jetstream" in r:
        j = r["jetstream"]
        lines.append(f"| the burst into existing directories, published into a single-node JetStream stream (acknowledged) instead | {j['stored']:,} of {j['files']:,} stored in {j['seconds']} s: {j['events_per_second']:,} events/s, {j['cpu_us_per_event']} µs agent CPU each (the same burst over webhooks: {r['burst_existing']['drophook']['files_per_second']:,} files/s) |")
    if "drain" in r:
        g = r["drain"]
        lines.append(f"| delivery alone: {g['deliveries']:,} events already queued, sent by a fresh agent | {g['webhooks_per_second']:,} webhooks/s, {g['cpu_us_per_webhook']} µs CPU each (start-up included), peak RSS {g['peak_rss_mib']} MiB |")
    if "latency" in r:
        l = r["latency"]
        lines.append(f"| writer's close() → receiver, {l['rate']} files/s for {l['seconds']} s | p50 {l['p50_ms']} ms, p99 {l['p99_ms']} ms, max {l['max_ms']} ms ({l['received']}/{l['files']} received) |")
    if "checksum_stall" in r:
        c = r["checksum_stall"]
        lines.append(f"| `sha256: true`: a 1-byte file's close() → receiver, alone / right after a {c['large_mib']} MiB file ({c['rounds']} rounds, median) | {c['small_alone_ms_median']} ms / {c['small_after_large_ms_median']} ms (max {c['small_after_large_ms_max']} ms) |")
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
    parser.add_argument("--checksum-rounds", type=int, default=5, help="sha256 stall rounds (0: skip)")
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--skip-jetstream", action="store_true", help="no burst into NATS JetStream")
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
        if not args.skip_jetstream and os.access("/usr/sbin/nats-server", os.X_OK):
            results["jetstream"] = jetstream_burst(work, args.directories, args.files_per_directory)
            print(f"jetstream: {results['jetstream']}", flush=True)
        if args.checksum_rounds > 0:
            results["checksum_stall"] = checksum_stall(work, receiver, rounds=args.checksum_rounds)
            print(f"checksum stall: {results['checksum_stall']}", flush=True)
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
