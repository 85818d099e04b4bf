//! Embedding throughput and memory on this machine.
//!
//! ```sh
//! cargo run --release -p heron-embed --example throughput -- MODEL_DIR [SECONDS]
//! CANDLE_NUM_THREADS=1 RAYON_NUM_THREADS=1 cargo run --release ... # one core
//! ```
//!
//! Reports: load time, 256-token windows per second in batches of 1 and
//! 8, a typical one-page document's latency (`embed_document`), and the
//! process's peak resident memory (VmHWM) with the model loaded.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use heron_embed::{ChunkPolicy, Embedder};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Run `f` repeatedly for about `budget`; (runs, mean seconds per run).
fn time(budget: Duration, mut f: impl FnMut()) -> (usize, f64) {
    f(); // warm-up
    let started = Instant::now();
    let mut runs = 0;
    while started.elapsed() < budget {
        f();
        runs += 1;
    }
    (runs, started.elapsed().as_secs_f64() / runs.max(1) as f64)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: throughput MODEL_DIR [SECONDS]");
        std::process::exit(2);
    };
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let budget = Duration::from_secs_f64(seconds);
    let before = peak_rss_mib();
    let started = Instant::now();
    let embedder = Embedder::load(&dir).expect("loading the model");
    let load = started.elapsed();
    println!(
        "model {} loaded in {:.0} ms; peak RSS {:.0} MiB (before loading {:.0} MiB)",
        embedder.id(),
        load.as_secs_f64() * 1000.0,
        peak_rss_mib(),
        before
    );
    // A text of well over 256 tokens: each window is full.
    let words = "the statement lists every payment received and made during the period \
                 with its date amount and running balance ";
    let long = words.repeat(30);
    for batch in [1usize, 8] {
        let texts: Vec<&str> = std::iter::repeat_n(long.as_str(), batch).collect();
        let (runs, mean) = time(budget, || {
            embedder.embed(&texts).expect("embedding");
        });
        println!(
            "256-token windows, batch {batch}: {:.1} windows/s ({runs} runs)",
            batch as f64 / mean
        );
    }
    let page = "ACME Utilities Ltd\nElectricity bill\nAccount number 123456789\nBilling period \
                01/03/2026 - 31/03/2026\nPrevious balance 54.20\nPayment received - thank you -54.20\n\
                Energy used 312 kWh at 0.28 = 87.36\nStanding charge 31 days at 0.45 = 13.95\n\
                VAT 5% 5.07\nTotal due 106.38 by 21/04/2026\nPay by direct debit or at acme.example\n";
    let (runs, mean) = time(budget, || {
        embedder
            .embed_document(page, &ChunkPolicy::default())
            .expect("embedding");
    });
    println!(
        "a one-page bill (embed_document): {:.1} ms ({runs} runs)",
        mean * 1000.0
    );
    let document = page.repeat(12);
    let (runs, mean) = time(budget, || {
        embedder
            .embed_document(&document, &ChunkPolicy::default())
            .expect("embedding");
    });
    println!(
        "a twelve-page document (at most 8 windows): {:.1} ms ({runs} runs)",
        mean * 1000.0
    );
    println!("peak RSS after the runs: {:.0} MiB", peak_rss_mib());
}
