//! The real all-MiniLM-L6-v2 weights give the vectors of the reference
//! implementation (sentence-transformers), stored once in
//! `fixtures/reference.json` by `fixtures/make_reference.py`.
//!
//! Needs the model folder named by `HERON_TEST_EMBEDDING_MODEL`
//! (`scripts/fetch-embedding-model DIR`; `scripts/test` and `.ci/run` set
//! it); without it the test says so loudly and passes (a failure under
//! `HERON_TEST_REQUIRE=all`).

use heron_embed::{ChunkPolicy, Embedder, LazyEmbedder, cosine};

#[derive(serde::Deserialize)]
struct Reference {
    max_seq_length: usize,
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    vector: Vec<f32>,
}

#[test]
fn real_weights_give_the_reference_implementations_vectors() {
    let Some(dir) = heron_testkit::embedding_model() else {
        return;
    };
    let embedder = Embedder::load(&dir).expect("loading the model");
    let reference: Reference =
        serde_json::from_str(include_str!("fixtures/reference.json")).expect("reference vectors");
    assert_eq!(embedder.window(), reference.max_seq_length);
    let texts: Vec<&str> = reference.cases.iter().map(|c| c.text.as_str()).collect();
    let vectors = embedder.embed(&texts).expect("embedding");
    for (case, vector) in reference.cases.iter().zip(&vectors) {
        assert_eq!(vector.len(), case.vector.len());
        let similarity = cosine(vector, &case.vector);
        eprintln!("cos {similarity:.6}  {:.50}", case.text);
        assert!(similarity >= 0.99, "{similarity} for {:?}", case.text);
    }
    // One at a time gives what the padded batch gave.
    let alone = embedder.embed(&texts[1..2]).expect("embedding");
    assert!(cosine(&alone[0], &vectors[1]) > 0.9999);
}

#[test]
fn a_document_is_pooled_from_its_windows_with_the_beginning_weighing_most() {
    let Some(dir) = heron_testkit::embedding_model() else {
        return;
    };
    let embedder = Embedder::load(&dir).expect("loading the model");
    let invoice = "INVOICE No. 1001. Bill to: Example Ltd. Item: consulting, 10 hours at 100.00. \
                   Subtotal 1000.00, VAT 200.00, total due 1200.00 within 30 days. ";
    let weather = "The weather was mild and the garden flowers bloomed early this spring. ";
    // An invoice followed by a long unrelated tail, and the reverse.
    let invoice_first = format!("{}{}", invoice.repeat(12), weather.repeat(60));
    let weather_first = format!("{}{}", weather.repeat(60), invoice.repeat(12));
    let policy = ChunkPolicy::default();
    let query = embedder
        .embed(&["an invoice asking for payment"])
        .expect("query");
    let a = embedder
        .embed_document(&invoice_first, &policy)
        .expect("embedding")
        .expect("a vector");
    let b = embedder
        .embed_document(&weather_first, &policy)
        .expect("embedding")
        .expect("a vector");
    assert!(cosine(&a, &query[0]) > cosine(&b, &query[0]) + 0.05);
    assert!(
        embedder
            .embed_document("   ", &policy)
            .expect("embedding")
            .is_none()
    );
    // Bounded: a huge text costs no more windows than the policy allows.
    let huge = weather.repeat(5_000);
    let started = std::time::Instant::now();
    embedder
        .embed_document(
            &huge,
            &ChunkPolicy {
                max_windows: 2,
                batch: 2,
            },
        )
        .expect("embedding");
    eprintln!("2 windows of a 70k-word text: {:?}", started.elapsed());
}

/// A lazily opened model names itself like the loaded one, records that
/// name so the next opening reads no weights, loads on first use, and
/// refuses weights replaced after it was opened.
#[test]
fn a_lazy_model_is_named_without_loading_and_refuses_weights_changed_under_it() {
    let Some(dir) = heron_testkit::embedding_model() else {
        return;
    };
    let loaded = Embedder::load(&dir).expect("loading the model");
    let known = std::env::temp_dir().join(format!("heron-embed-known-{}", std::process::id()));
    let lazy = LazyEmbedder::open(&dir, Some(&known)).expect("opening the model");
    assert_eq!(lazy.id(), loaded.id());
    assert!(!lazy.is_loaded());
    let records: Vec<_> = std::fs::read_dir(&known).expect("records").collect();
    assert_eq!(records.len(), 1);
    // Opened again from the record: same name, still nothing loaded.
    let again = LazyEmbedder::open(&dir, Some(&known)).expect("opening again");
    assert_eq!(again.id(), loaded.id());
    let vector = again
        .get()
        .expect("loading on first use")
        .embed(&["an invoice"])
        .expect("embedding");
    assert_eq!(vector, loaded.embed(&["an invoice"]).expect("embedding"));
    assert!(again.is_loaded());

    // A copy of the folder whose weights change after opening.
    let copy = known.join("model");
    std::fs::create_dir_all(copy.join("1_Pooling")).expect("a folder");
    for name in [
        "config.json",
        "tokenizer.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "model.safetensors",
    ] {
        if dir.join(name).exists() {
            std::fs::copy(dir.join(name), copy.join(name)).expect("copying");
        }
    }
    let stale = LazyEmbedder::open(&copy, None).expect("opening the copy");
    let mut weights = std::fs::read(copy.join("model.safetensors")).expect("weights");
    let last = weights.len() - 1;
    weights[last] ^= 0x01;
    std::fs::write(copy.join("model.safetensors"), &weights).expect("changing the weights");
    let refused = stale
        .get()
        .map(|_| ())
        .expect_err("changed weights are refused");
    assert!(
        refused.to_string().contains("changed since start-up"),
        "{refused}"
    );
    std::fs::remove_dir_all(&known).expect("cleaning up");
}
