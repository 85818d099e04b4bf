#!/usr/bin/env python3
"""Scale-out benchmarks on PostgreSQL + S3 (run under
scripts/with-test-services, which starts both and exports their URLs):

  scripts/with-test-services bench/scale_out.py workers   [--files 200]
  scripts/with-test-services bench/scale_out.py upload-rss [--clients 8]

workers:    an API with no workers and 1, then 2, `heron worker` processes
            (one task at a time each) on a fresh database and prefix; the
            same mix of --files files (unique names, so no result is
            reused) uploaded as jobs of 50; files/s from the first upload
            to the last result, and the ratio 2 workers : 1.
upload-rss: an API with no workers; --clients clients upload one file each
            at once, in rounds of growing size (--sizes, MB); peak RSS
            (VmHWM) of the API after each round. Bounded memory means the
            peak stops growing with the file size (S3 uploads hold at most
            a few 5 MiB parts each; a local blob folder none).
Only the standard library is used.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import KEY, free_port, rss_kib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "..", "shared", "corpus", "samples")
MIX = ["invoice_1.pdf", "bank_statement_1.pdf", "sample_financial_report.docx", "bank_statement_cb1ec9cf.csv",
       "form_cb775b0e.txt", "drivers_license_1.jpg", "invoice_2.pdf", "drivers_licence_2.jpg"]


def fresh_deployment():
    admin = os.environ["HERON_TEST_DATABASE_URL"]
    name = "heron_bench_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    return {
        "HERON_DATABASE_URL": admin.rsplit("/", 1)[0] + "/" + name,
        "HERON_BLOB_STORE": os.environ["HERON_TEST_BLOB_STORE"].rstrip("/") + "/" + name,
        "ALLOWED_API_KEYS": KEY,
        "HERON_LOG_FORMAT": "json",
        "HERON_LOG_LEVEL": "warn",
        "HERON_MODELS_DIR": os.path.join(tempfile.gettempdir(), "heron-test-models"),
    }


def launch(heron, role, env, extra):
    port = free_port()
    data = tempfile.mkdtemp(prefix="heron-bench-")
    args = [heron, "--data-dir", data, role, "--bind", f"127.0.0.1:{port}", *extra]
    process = subprocess.Popen(args, env=dict(os.environ, **env), stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(data, "log"), "w"))
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/v1/ready")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{role} did not become ready; see {data}/log")


def upload(port, files, timeout=600):
    boundary = uuid.uuid4().hex
    body = b"".join(
        b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" +
        name.encode() + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
        for name, data in files) + b"--" + boundary.encode() + b"--\r\n"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("POST", "/v1/files", body,
                       {"x-api-key": KEY, "content-type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def job_done(port, job_id):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/v1/jobs/{job_id}", headers={"x-api-key": KEY})
    job = json.loads(connection.getresponse().read())
    return job["status"] in ("done", "failed"), job


def workers(heron, count_files):
    data = {name: open(os.path.join(SAMPLES, name), "rb").read() for name in MIX}
    run_tag = uuid.uuid4().hex[:6]
    rates = {}
    for worker_count in (1, 2):
        env = fresh_deployment()
        api, port = launch(heron, "serve", env, ["--workers", "0"])
        workers = [launch(heron, "worker", env, ["--concurrency", "1"])[0] for _ in range(worker_count)]
        files = [(f"w{worker_count}_{run_tag}_{i:03}_{MIX[i % len(MIX)]}", data[MIX[i % len(MIX)]])
                 for i in range(count_files)]
        started = time.perf_counter()
        jobs = []
        for batch in range(0, count_files, 50):
            status, answer = upload(port, files[batch:batch + 50])
            assert status == 202, (status, answer)
            jobs.append(answer["job_id"])
        results = 0
        for job_id in jobs:
            while True:
                done, job = job_done(port, job_id)
                if done:
                    results += len(job["results"])
                    break
                time.sleep(0.2)
        seconds = time.perf_counter() - started
        assert results == count_files, results
        rates[worker_count] = count_files / seconds
        print(f"{worker_count} worker process(es): {count_files} files in {seconds:.1f} s = "
              f"{rates[worker_count]:.2f} files/s", flush=True)
        for process in [api, *workers]:
            process.terminate()
            process.wait(timeout=60)
    print(f"ratio 2:1 = {rates[2] / rates[1]:.2f}")


def upload_rss(heron, clients, sizes, local_blobs):
    env = fresh_deployment()
    env["MAX_FILE_SIZE_MB"] = str(max(sizes) + 1)
    if local_blobs:
        env["HERON_BLOB_STORE"] = tempfile.mkdtemp(prefix="heron-bench-blobs-")
    print(f"blob store: {env['HERON_BLOB_STORE']}")
    api, port = launch(heron, "serve", env, ["--workers", "0"])
    print(f"idle: VmRSS {rss_kib(api.pid, 'VmRSS') / 1024:.0f} MiB")
    for megabytes in sizes:
        payload = os.urandom(megabytes * 1024 * 1024)
        statuses = []

        def client(n):
            # One file per request, more than the synchronous limit would
            # process: HERON_SYNC_MAX_FILES=0 makes every upload a job.
            statuses.append(upload(port, [(f"c{n}_{megabytes}mb.pdf", payload + bytes([n]))])[0])

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        print(f"{clients} clients x {megabytes:>2} MB: statuses {sorted(set(statuses))}, {seconds:.2f} s, "
              f"peak RSS (VmHWM) so far {rss_kib(api.pid, 'VmHWM') / 1024:.0f} MiB", flush=True)
    api.terminate()
    api.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["workers", "upload-rss"])
    parser.add_argument("--heron", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                                                        "release", "heron"))
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sizes", default="1,10,40", help="file sizes in MB, one round each")
    parser.add_argument("--local-blobs", action="store_true", help="a local blob folder instead of S3")
    args = parser.parse_args()
    os.environ.setdefault("HERON_SYNC_MAX_FILES", "0")
    if args.mode == "workers":
        workers(args.heron, args.files)
    else:
        upload_rss(args.heron, args.clients, [int(x) for x in args.sizes.split(",")], args.local_blobs)


if __name__ == "__main__":
    main()
