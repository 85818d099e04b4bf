#!/usr/bin/env python3
"""Benchmark of review and learning: how fast the review queue, the
dashboard and their pages answer with many documents stored, how long a
training run takes, and how soon a promoted model classifies.

Usage: bench/review.py [--heron PATH] [--documents 500] [--repeat 30]

It starts its own `heron serve` on a free loopback port with a fresh data
directory, uploads --documents small text documents (ten per request;
a third of them of kinds the model is unsure of, so the queue has work),
then times, --repeat times each:
  GET /v1/jobs?limit=20        the baseline: a plain paginated list
  GET /v1/review/queue?limit=20 ranking every unreviewed document
  GET /v1/dashboard             the figures over 30 days
  GET /ui/review, /ui/dashboard the pages, rendered with their charts
and reports p50/p95 and each one's ratio to the baseline's p50. Then it
corrects one unsure document, trains a challenger (time from request to
done), promotes it and measures how long until an upload is classified
with it. Standard library only.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-admin-key"

KNOWN = [
    "INVOICE No. {n}\nBill to: Acme Corp\nDescription Qty Unit price\nValves 3 120.00\nSubtotal 360.00\nTax 72.00\nTotal due 432.00\nPayment terms: 30 days",
    "Account statement\nAccount number 1234 5678\nStatement period 01/03/2024 to 31/03/2024\nOpening balance 2,500.00\n02/03 Card purchase -84.20\nClosing balance {n}.00",
    "PAYSLIP\nEmployee: Jo Smith {n}\nPay period March 2024\nGross pay 3,100.00\nIncome tax -620.00\nNet pay 2,480.00",
]
UNSURE = [
    "Harbour Lane Allotment Society\nPlot {n}B renewal, water levy and plot fee paid in cash at the spring meeting.\nReceived with thanks by the treasurer. Amount 45.00",
    "Hi Sam, thanks for lunch on Tuesday {n}. We paid 1,240 for the venue and 310 for flowers. Cheers, Robin",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    all_headers = {"x-api-key": KEY}
    all_headers.update(headers or {})
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def upload(port, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, text in files:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                     f"Content-Type: text/plain\r\n\r\n{text}\r\n".encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    status, data = request(port, "POST", "/v1/files", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200, (status, data[:300])
    return json.loads(data)


def timed(port, path, repeat):
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        status, _ = request(port, "GET", path)
        times.append((time.perf_counter() - began) * 1000)
        assert status == 200, (path, status)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heron", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "heron"))
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="heron-review-bench-")
    port = free_port()
    env = dict(os.environ, HERON_ADMIN_API_KEYS=KEY, HERON_LOG_LEVEL="warn",
               HERON_RATE_LIMIT_KEY_RPS="100000", HERON_RATE_LIMIT_TENANT_RPS="100000",
               HERON_MODELS_DIR=os.path.join(tempfile.gettempdir(), "heron-bench-models"))
    server = subprocess.Popen([args.heron, "--data-dir", data_dir, "serve", "--bind", f"127.0.0.1:{port}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while True:
            try:
                if request(port, "GET", "/v1/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "server not ready"
            time.sleep(0.2)
        began = time.perf_counter()
        unsure_ids = []
        for start in range(0, args.documents, 10):
            batch = []
            for n in range(start, min(start + 10, args.documents)):
                template = (UNSURE + KNOWN + KNOWN)[n % 8]
                batch.append((f"scan_{n:05}.txt", template.format(n=n)))
            for result in upload(port, batch):
                if result["label"] == "unsure":
                    unsure_ids.append(result["document_id"])
        print(f"uploaded {args.documents} documents in {time.perf_counter() - began:.1f} s "
              f"({len(unsure_ids)} unsure)")
        rows = []
        baseline = None
        for path in ["/v1/jobs?limit=20", "/v1/review/queue?limit=20", "/v1/dashboard", "/ui/review", "/ui/dashboard"]:
            p50, p95 = timed(port, path, args.repeat)
            baseline = baseline or p50
            rows.append((path, p50, p95, p50 / baseline))
        print(f"{'route':32} {'p50 ms':>8} {'p95 ms':>8} {'× baseline':>10}")
        for path, p50, p95, ratio in rows:
            print(f"{path:32} {p50:8.1f} {p95:8.1f} {ratio:10.1f}")
        # One correction, a training run, a promotion.
        document = unsure_ids[0]
        status, _ = request(port, "POST", f"/v1/documents/{document}/review",
                            json.dumps({"action": "correct", "label": "receipt"}), {"Content-Type": "application/json"})
        assert status == 201, status
        began = time.perf_counter()
        status, data = request(port, "POST", "/v1/models/train")
        run = json.loads(data)["run_id"]
        while True:
            run_state = json.loads(request(port, "GET", f"/v1/models/runs/{run}")[1])
            if run_state["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        trained = time.perf_counter() - began
        assert run_state["state"] == "done", run_state
        began = time.perf_counter()
        status, _ = request(port, "POST", f"/v1/models/{run_state['challenger_id']}/promote")
        assert status == 200, status
        label = upload(port, [("again.txt", UNSURE[0].format(n=0))])[0]["label"]
        served = time.perf_counter() - began
        print(f"training run: {trained:.1f} s ({run_state['report']['training_documents']} documents); "
              f"promotion to a classified upload: {served * 1000:.0f} ms (label {label})")
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
