//! One-vs-rest scores: a document that is an invoice and a contract at once
//! carries both labels; plain documents carry their own.

use heron_classify::features::with_signals;
use heron_classify::{Taxonomy, compose, train};

#[test]
fn an_invoice_that_is_also_a_contract_carries_both_labels() {
    let taxonomy = Taxonomy::default_taxonomy();
    let (model, _) = train::train_taxonomy(&taxonomy, 120, 5).expect("training");
    let label = |i: usize| model.labels()[i].as_str().to_owned();
    // A seed never trained on.
    let held_out = compose::generate(&taxonomy, 6, 77);
    let of = |id: &'static str| held_out.iter().filter(move |s| s.label == id);

    let mut single = 0;
    for sample in of("invoice").chain(of("contract")).chain(of("pay_slip")) {
        let prediction = model.predict(&with_signals(&sample.text, sample.format));
        let present: Vec<String> = model
            .present_types(&prediction, &[&sample.text], sample.format)
            .into_iter()
            .map(|(i, _)| label(i))
            .collect();
        assert!(
            present.contains(&sample.label),
            "{}: {present:?}",
            sample.template
        );
        single += usize::from(present.len() == 1);
    }
    assert!(
        single >= 16,
        "plain documents carry one label ({single} of 18)"
    );

    let mut both = 0;
    for (invoice, contract) in of("invoice").zip(of("contract")) {
        // Two pages: the invoice, then the contract's terms.
        let text = format!("{}\n\n{}", invoice.text, contract.text);
        let prediction = model.predict(&with_signals(&text, "pdf"));
        let present: Vec<String> = model
            .present_types(&prediction, &[&invoice.text, &contract.text], "pdf")
            .into_iter()
            .map(|(i, _)| label(i))
            .collect();
        both += usize::from(
            present.contains(&"invoice".to_owned()) && present.contains(&"contract".to_owned()),
        );
        assert!(present.len() <= 3, "{present:?}");
    }
    assert!(
        both >= 5,
        "invoice + contract documents carry both labels ({both} of 6)"
    );

    // The same on one page: its halves are read on their own.
    let mut both_on_one_page = 0;
    for (invoice, contract) in of("invoice").zip(of("contract")) {
        let text = format!("{}\n{}", invoice.text, contract.text);
        let prediction = model.predict(&with_signals(&text, "text"));
        let present: Vec<String> = model
            .present_types(&prediction, &[&text], "text")
            .into_iter()
            .map(|(i, _)| label(i))
            .collect();
        both_on_one_page += usize::from(
            present.contains(&"invoice".to_owned()) && present.contains(&"contract".to_owned()),
        );
    }
    assert!(
        both_on_one_page >= 4,
        "one-page invoice + contract documents carry both labels ({both_on_one_page} of 6)"
    );
}
