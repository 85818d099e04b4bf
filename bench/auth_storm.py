#!/usr/bin/env python3
"""Failed-authentication storm: do valid clients keep their latency while
one address sends ~1,000 requests a second with wrong keys?

Usage: bench/auth_storm.py [--heron PATH] [--attack-rps 1000] [--seconds 10]
                           [--valid-rps 50]

It starts `heron serve` on a free loopback port with a fresh data directory
and the default limits on failed authentication
(HERON_AUTH_FAILURES_PER_MINUTE: past it, failures from an address are
answered 429). Everything comes from 127.0.0.1, as it does behind a proxy
that is not trusted: the attacker and the valid clients share one address.
A valid client polls GET /v1/jobs (authenticated, reads the database) at
--valid-rps, first alone, then while attacker threads send wrong keys at
--attack-rps. It prints p50/p99 of the valid requests in both phases, how
many valid requests failed, and the attack rate reached with its answers.
Only the standard library is used.
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-valid-key-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(heron, data_dir, port):
    # The valid key's own rate limit is lifted: only the failed-auth brake
    # is under test.
    env = dict(os.environ, ALLOWED_API_KEYS=KEY, HERON_LOG_FORMAT="json", HERON_LOG_LEVEL="warn",
               HERON_RATE_LIMIT_KEY_RPS="100000", HERON_RATE_LIMIT_TENANT_RPS="100000")
    process = subprocess.Popen([heron, "--data-dir", data_dir, "serve", "--bind", f"127.0.0.1:{port}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/v1/ready")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            sys.exit("heron exited before it was ready")
        time.sleep(0.01)
    sys.exit("heron was not ready within 120 s")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def valid_client(port, rps, seconds):
    """Latencies (s) of paced valid requests, and how many failed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, failed = [], 0
    interval = 1.0 / rps
    began = time.perf_counter()
    n = 0
    while time.perf_counter() - began < seconds:
        due = began + n * interval
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        n += 1
        sent = time.perf_counter()
        try:
            connection.request("GET", "/v1/jobs?limit=1", headers={"x-api-key": KEY})
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append(time.perf_counter() - sent)
        failed += 0 if ok else 1
    return latencies, failed


def attacker(port, rps, stop, counts, lock, number):
    """Wrong keys, paced to `rps` for this thread; answers counted by status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    interval = 1.0 / rps
    began = time.perf_counter()
    n = 0
    local = {}
    while not stop.is_set():
        due = began + n * interval
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        n += 1
        try:
            connection.request("GET", "/v1/jobs?limit=1", headers={"x-api-key": f"wrong-{number}-{n}"})
            response = connection.getresponse()
            response.read()
            local[response.status] = local.get(response.status, 0) + 1
        except OSError:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local["error"] = local.get("error", 0) + 1
    with lock:
        for status, count in local.items():
            counts[status] = counts.get(status, 0) + count


def report(name, latencies, failed):
    print(f"{name:<22} {len(latencies):>6} {failed:>6} {percentile(latencies, 50) * 1000:>9.2f} "
          f"{percentile(latencies, 99) * 1000:>9.2f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heron", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "heron"))
    parser.add_argument("--attack-rps", type=int, default=1000)
    parser.add_argument("--attackers", type=int, default=8, help="attacker threads (keep-alive connections)")
    parser.add_argument("--valid-rps", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="heron-bench-auth-")
    port = free_port()
    process = start(args.heron, data_dir, port)
    try:
        # Warm up the connection and the database.
        valid_client(port, args.valid_rps, 1)
        baseline, baseline_failed = valid_client(port, args.valid_rps, args.seconds)

        stop, lock, counts = threading.Event(), threading.Lock(), {}
        threads = [threading.Thread(target=attacker, args=(port, args.attack_rps / args.attackers, stop, counts, lock, i))
                   for i in range(args.attackers)]
        attack_began = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(1)  # the brake engages within the first second
        under_attack, attack_failed = valid_client(port, args.valid_rps, args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        attack_seconds = time.perf_counter() - attack_began
        sent = sum(counts.values())

        print(f"heron serve, one address (127.0.0.1) for everyone; valid client at {args.valid_rps} req/s "
              f"for {args.seconds:.0f} s per phase")
        print(f"{'phase':<22} {'valid':>6} {'failed':>6} {'p50 ms':>9} {'p99 ms':>9}")
        report("no attack", baseline, baseline_failed)
        report("under attack", under_attack, attack_failed)
        print(f"attack: {sent} wrong-key requests in {attack_seconds:.1f} s = {sent / attack_seconds:.0f} req/s; "
              f"answers {dict(sorted(counts.items(), key=str))}")
        print(f"p99 under attack / p99 without: {percentile(under_attack, 99) / percentile(baseline, 99):.2f}")
        if baseline_failed or attack_failed:
            sys.exit("valid requests failed")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
