fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let samples = heron_understand::testset::generate(10, 11);
    let s = &samples[n];
    std::fs::write("/tmp/dbg/doc.pdf", heron_classify::render::pdf(&s.text)).unwrap();
    let e = heron_extract::extract_in_process(
        std::path::Path::new("/tmp/dbg/doc.pdf"),
        heron_extract::FileKind::Pdf,
        &heron_extract::ExtractionLimits::default(),
    )
    .unwrap();
    let t = heron_classify::Taxonomy::default_taxonomy();
    let u = heron_understand::understand(&e.pages, &e.layout, t.fields_of(&s.label));
    for table in &u.tables {
        println!("{:?}\n{:?}", table.header, table.rows.first());
    }
    println!("{:?}", u.fields.tables.keys().collect::<Vec<_>>());
}
