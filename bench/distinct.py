#!/usr/bin/env python3
"""Throughput of `heron serve` on distinct documents, each uploaded once,
against the floors of the tools underneath, in the same run.

Usage: bench/distinct.py [--heron PATH] [--concurrency 8] [--per-type 42]
                         [--seed 11] [--images-max 120] [--generated DIR]

`bench/load.py` repeats six files, so after its first round every answer is
a stored result; this one generates documents with `heron generate`
(--per-type of each of the taxonomy's types, new text and values in each;
text PDFs, DOCX, HTML, e-mails, text; scans and photos as JPEG/PNG) and
uploads every file once at --concurrency, in four phases: PDFs with a text
layer, the other text formats, PDFs without one (scans: `pdftotext` finds
no word in them), then at most --images-max pictures. Then the floors, on
the same files with the same concurrency: `pdftotext -layout` alone over the
text PDFs and `tesseract` alone over the pictures (`os.cpu_count()` at once,
as many as the extraction children). Last, the first 100 text files again:
the cached figure, on its own line.

Reports files/s, p50/p99 per phase, the service/floor time ratios, and the
peak resident memory of the server and its extraction children together
(sampled every 50 ms over the process tree). With HERON_OCR_MODELS set the
service reads photos with PP-OCR too: the tesseract floor is then not the
whole floor (say so when quoting the ratio).
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import KEY, ROOT, free_port, multipart, percentile, start  # noqa: E402

PICTURES = {"jpg", "jpeg", "png", "tif", "tiff"}


def tree_rss_kib(root):
    """Resident memory of `root` and every process descending from it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


class PeakSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, tree_rss_kib(self.pid))
            time.sleep(0.05)


def upload_all(port, files, concurrency):
    """Upload each (path, kind) once; [(kind, seconds, ok, cached)], wall seconds."""
    jobs = list(reversed(files))
    results, lock = [], threading.Lock()

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                if not jobs:
                    return
                path, kind = jobs.pop()
            with open(path, "rb") as f:
                boundary, body = multipart("upload_" + os.path.basename(path), f.read())
            began = time.perf_counter()
            connection.request("POST", "/v1/files", body=body, headers={
                "x-api-key": KEY, "Content-Type": f"multipart/form-data; boundary={boundary}"})
            response = connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - began
            ok, cached = False, False
            if response.status == 200:
                result = json.loads(payload)[0]
                ok, cached = not result["errors"], bool(result.get("cached"))
            with lock:
                results.append((kind, elapsed, ok, cached))

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def floor(command_of, paths, workers):
    """Wall seconds to run command_of(path) over paths, `workers` at once."""
    def one(path):
        subprocess.run(command_of(path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, paths))
    return time.perf_counter() - began


def phase_report(results, wall):
    latencies = [e for _, e, _, _ in results]
    return {
        "files": len(results),
        "failures": sum(1 for _, _, ok, _ in results if not ok),
        "cached_answers": sum(1 for _, _, _, cached in results if cached),
        "files_per_second": round(len(results) / wall, 1) if wall else 0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
        "p50_ms_by_format": {kind: round(statistics.median([e for k, e, _, _ in results if k == kind]) * 1000, 1)
                             for kind in sorted({k for k, _, _, _ in results})},
        "seconds": round(wall, 2),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--heron", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "heron"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--per-type", type=int, default=42)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--images-max", type=int, default=120)
    parser.add_argument("--generated", help="reuse documents `heron generate` wrote to this folder")
    parser.add_argument("--text-only", action="store_true",
                        help="skip the scanned PDFs and pictures (the OCR phases take minutes)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="heron-distinct-")
    try:
        generated = args.generated
        if not generated:
            generated = os.path.join(work, "generated")
            began = time.perf_counter()
            subprocess.run([args.heron, "--data-dir", os.path.join(work, "generator"), "generate", "--out", generated,
                            "--per-type", str(args.per_type), "--seed", str(args.seed)],
                           check=True, stdout=subprocess.DEVNULL)
            print(f"generated in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        files = sorted(os.path.join(folder, name) for folder, _, names in os.walk(generated) for name in names)
        kind = lambda path: path.rsplit(".", 1)[-1].lower()  # noqa: E731
        def has_text_layer(path):
            text = subprocess.run(["pdftotext", path, "-"], capture_output=True, check=False).stdout
            return len(text.split()) >= 3
        all_pdfs = [p for p in files if kind(p) == "pdf"]
        pdfs = [(p, "pdf") for p in all_pdfs if has_text_layer(p)]
        scanned_pdfs = [] if args.text_only else [(p, "scanned pdf") for p in all_pdfs if (p, "pdf") not in pdfs]
        others = [(p, kind(p)) for p in files if kind(p) not in PICTURES and kind(p) != "pdf"]
        pictures = [] if args.text_only else [(p, kind(p)) for p in files if kind(p) in PICTURES][: args.images_max]

        port = free_port()
        data_dir = os.path.join(work, "data")
        process, cold = start(args.heron, data_dir, port)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        process, warm = start(args.heron, data_dir, port)
        time.sleep(0.5)
        idle = tree_rss_kib(process.pid)
        sampler = PeakSampler(process.pid)
        sampler.start()
        phases = {}
        for name, batch in (("text_pdf", pdfs), ("other_text", others), ("scanned_pdf", scanned_pdfs),
                            ("pictures", pictures)):
            if not batch:
                continue
            results, wall = upload_all(port, batch, args.concurrency)
            phases[name] = phase_report(results, wall)
        text_files = pdfs + others
        results, wall = upload_all(port, text_files[:100], args.concurrency)
        phases["cached_text_repeat"] = phase_report(results, wall)
        sampler.running = False
        sampler.join()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

        pdf_floor = floor(lambda p: ["pdftotext", "-layout", p, "-"], [p for p, _ in pdfs], args.concurrency)
        cores = os.cpu_count() or 2
        ocr_floor = floor(lambda p: ["tesseract", p, "-"], [p for p, _ in pictures], cores) if pictures else 0
        report = {
            "concurrency": args.concurrency,
            "documents": {"text_pdf": len(pdfs), "other_text": len(others), "scanned_pdf": len(scanned_pdfs),
                          "pictures": len(pictures)},
            "phases": phases,
            "floors": {
                "pdftotext_files_per_second": round(len(pdfs) / pdf_floor, 1) if pdf_floor else None,
                "service_over_pdftotext_time": round(phases["text_pdf"]["seconds"] / pdf_floor, 2) if pdf_floor else None,
                "tesseract_files_per_second": round(len(pictures) / ocr_floor, 2) if ocr_floor else None,
                "service_over_tesseract_time": round(phases["pictures"]["seconds"] / ocr_floor, 2) if ocr_floor else None,
                "ppocr_in_service": bool(os.environ.get("HERON_OCR_MODELS")),
            },
            "cold_start_to_ready_ms": round(cold * 1000, 1),
            "warm_start_to_ready_ms": round(warm * 1000, 1),
            "idle_rss_mib_server_and_children": round(idle / 1024, 1),
            "peak_rss_mib_server_and_children": round(sampler.peak / 1024, 1),
        }
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
