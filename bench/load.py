#!/usr/bin/env python3
"""Load benchmark of `heron serve`: start-up time, idle and peak RSS, and
throughput and latency of POST /v1/files at a given concurrency.

Usage: bench/load.py [--heron PATH] [--concurrency 8] [--requests 400]
                     [--mix original|text] [--samples DIR]

It starts its own server on a free loopback port with a fresh data
directory, twice: the first start trains the default model (cold), the
second loads it (warm), which is what "time to ready" means in operation.
Each request uploads one file; files are drawn round-robin from the mix:
  original: 3 PDFs, 1 DOCX, 1 CSV, 1 TXT, 2 JPGs (the mix the original
            Python service was measured on)
  text:     the same without the JPGs (text-layer files only)
Only the standard library is used, so the numbers include no client magic.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-key"

MIXES = {
    "original": ["invoice_1.pdf", "bank_statement_1.pdf", "invoice_2.pdf", "sample_financial_report.docx",
                 "bank_statement_cb1ec9cf.csv", "form_cb775b0e.txt", "drivers_license_1.jpg", "drivers_licence_2.jpg"],
    "text": ["invoice_1.pdf", "bank_statement_1.pdf", "invoice_2.pdf", "sample_financial_report.docx",
             "bank_statement_cb1ec9cf.csv", "form_cb775b0e.txt"],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start(heron, data_dir, port):
    # Throughput is measured here, not the per-key rate limits and quotas
    # (which would answer 429 past 20 requests/s).
    env = dict(os.environ, ALLOWED_API_KEYS=KEY, HERON_LOG_FORMAT="json", HERON_LOG_LEVEL="warn",
               HERON_RATE_LIMIT_KEY_RPS="100000", HERON_RATE_LIMIT_TENANT_RPS="100000",
               HERON_QUOTA_TENANT_MB_PER_DAY="0")
    began = time.perf_counter()
    process = subprocess.Popen([heron, "--data-dir", data_dir, "serve", "--bind", f"127.0.0.1:{port}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/v1/ready")
            if connection.getresponse().status == 200:
                return process, time.perf_counter() - began
        except OSError:
            pass
        if process.poll() is not None:
            sys.exit("heron exited before it was ready")
        time.sleep(0.002)


def multipart(name, data):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    return boundary, head + data + f"\r\n--{boundary}--\r\n".encode()


def worker(port, jobs, results, lock):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    while True:
        with lock:
            if not jobs:
                return
            kind, name, body, boundary = jobs.pop()
        began = time.perf_counter()
        connection.request("POST", "/v1/files", body=body, headers={
            "x-api-key": KEY, "Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - began
        ok = response.status == 200 and not json.loads(payload)[0]["errors"]
        with lock:
            results.append((kind, elapsed, ok))


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heron", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "heron"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--mix", choices=sorted(MIXES), default="original")
    parser.add_argument("--samples", default=os.path.join(ROOT, "..", "shared", "corpus", "samples"))
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="heron-bench-")
    try:
        port = free_port()
        process, cold = start(args.heron, data_dir, port)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process, warm = start(args.heron, data_dir, port)
        time.sleep(0.5)
        idle_rss = rss_kib(process.pid, "VmRSS")

        files = [(name, open(os.path.join(args.samples, name), "rb").read()) for name in MIXES[args.mix]]
        jobs = []
        for i in range(args.requests):
            name, data = files[i % len(files)]
            extension = name.rsplit(".", 1)[1]
            boundary, body = multipart(f"upload_{i:05d}.{extension}", data)
            jobs.append((extension, name, body, boundary))
        jobs.reverse()
        results, lock = [], threading.Lock()
        began = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(port, jobs, results, lock)) for _ in range(args.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        peak_rss = rss_kib(process.pid, "VmHWM")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

        failures = sum(1 for _, _, ok in results if not ok)
        latencies = [e for _, e, _ in results]
        report = {
            "mix": args.mix,
            "concurrency": args.concurrency,
            "requests": len(results),
            "failures": failures,
            "files_per_second": round(len(results) / wall, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "by_type_p50_ms": {kind: round(statistics.median([e for k, e, _ in results if k == kind]) * 1000, 1)
                               for kind in sorted({k for k, _, _ in results})},
            "cold_start_to_ready_ms": round(cold * 1000, 1),
            "warm_start_to_ready_ms": round(warm * 1000, 1),
            "idle_rss_mib": round(idle_rss / 1024, 1),
            "peak_rss_mib": round(peak_rss / 1024, 1),
        }
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
