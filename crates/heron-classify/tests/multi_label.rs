//! One-vs-rest scores: a document that is an invoice and a contract at once
//! carries both labels; plain documents carry their own.

use heron_classify::features::with_signals;
use heron_classify::{Taxonomy, compose, train};

#[test]
fn an_invoice_that_is_also_a_contract_carries_both_labels() {
    let taxonomy = Taxonomy::default_taxonomy();
    let (model, _) = train::train_taxonomy(&taxonomy, 120, 5).expect("training");
    // The labels of a document of `pages`, read as `format`.
    let labels_of = |pages: &[&str], format: &str| -> Vec<String> {
        let prediction = model.predict(&with_signals(&pages.join("\n\n"), format));
        model
            .present_types(&prediction, pages, format)
            .into_iter()
            .map(|(i, _)| model.labels()[i].as_str().to_owned())
            .collect()
    };
    let both_types = |present: &[String]| {
        present.iter().any(|l| l == "invoice") && present.iter().any(|l| l == "contract")
    };
    // A seed never trained on; 30 of each type (six gave rates that one
    // document moved by 17 points).
    let held_out = compose::generate(&taxonomy, 30, 77);
    let of = |id: &'static str| held_out.iter().filter(move |s| s.label == id);

    let mut single = 0;
    let mut own = 0;
    for sample in of("invoice").chain(of("contract")).chain(of("pay_slip")) {
        let present = labels_of(&[&sample.text], sample.format);
        if present.contains(&sample.label) {
            own += 1;
        } else {
            eprintln!("{}: {present:?}", sample.template);
        }
        single += usize::from(present.len() == 1);
    }
    // Some miss: the generator's worst scans (a French contract read as
    // "Contra de tavail … Montont du contrat") carry no type sure enough.
    // Measured 81 and 81 of 90 (84 and 84 before the NDA type was given
    // the legal boilerplate real NDAs share with contracts, 2026-12-07).
    assert!(own >= 76, "documents carry their own label ({own} of 90)");
    assert!(
        single >= 76,
        "plain documents carry one label ({single} of 90)"
    );

    let mut both = 0;
    for (invoice, contract) in of("invoice").zip(of("contract")) {
        // Two pages: the invoice, then the contract's terms.
        let present = labels_of(&[&invoice.text, &contract.text], "pdf");
        both += usize::from(both_types(&present));
        assert!(present.len() <= 3, "{present:?}");
    }
    // Measured 15 of 30 (17 before the NDA type gained the legal
    // boilerplate of agreements: a short contract page in French, German
    // or Spanish now says less that only contracts say, and its contract
    // score falls under the line). Without one-vs-rest scores: 0.
    assert!(
        both >= 12,
        "invoice + contract documents carry both labels ({both} of 30)"
    );

    // The same on one page: its halves are read on their own.
    let mut both_on_one_page = 0;
    for (invoice, contract) in of("invoice").zip(of("contract")) {
        let text = format!("{}\n{}", invoice.text, contract.text);
        both_on_one_page += usize::from(both_types(&labels_of(&[&text], "text")));
    }
    // Measured 13 of 30 (15 before, see above).
    assert!(
        both_on_one_page >= 10,
        "one-page invoice + contract documents carry both labels ({both_on_one_page} of 30)"
    );
}

/// A document torn between two types of one family (part an invoice, part
/// a credit note) has an uncertain leaf but a confident family: the label
/// path falls back on the parent. For each pair, the share taken from each
/// document is varied until the type is uncertain; there, the family must
/// not be.
#[test]
fn an_uncertain_type_still_has_a_confident_family() {
    let taxonomy = Taxonomy::default_taxonomy();
    let (model, _) = train::train_taxonomy(&taxonomy, 120, 5).expect("training");
    let held_out = compose::generate(&taxonomy, 6, 91);
    let of = |id: &'static str| held_out.iter().filter(move |s| s.label == id);
    let mut uncertain_mixes = 0;
    for (invoice, credit_note) in of("invoice").zip(of("credit_note")) {
        let a: Vec<&str> = invoice.text.lines().collect();
        let b: Vec<&str> = credit_note.text.lines().collect();
        for twentieth in 1..20 {
            let mixed: Vec<&str> = a
                .iter()
                .take(a.len() * twentieth / 20)
                .chain(b.iter().skip(b.len() * twentieth / 20))
                .copied()
                .collect();
            let prediction = model.predict(&with_signals(&mixed.join("\n"), "pdf"));
            let (best, confidence) = prediction.best();
            if confidence >= 0.65 {
                continue;
            }
            let confidences: std::collections::BTreeMap<String, f64> = model
                .labels()
                .iter()
                .zip(&prediction.probabilities)
                .map(|(l, p)| (l.as_str().to_owned(), *p))
                .collect();
            let path = taxonomy.label_path(model.labels()[best].as_str(), &confidences);
            assert_eq!(path[1].id, "billing", "{path:?}");
            assert!(path[1].confidence >= 0.9, "{path:?}");
            uncertain_mixes += 1;
        }
    }
    // Measured: 6 uncertain mixes (of 6 pairs × 19 shares), every one
    // with its family at 0.9 or more.
    assert!(
        uncertain_mixes >= 4,
        "mixes unsure as a type (all sure of their family): {uncertain_mixes}"
    );
}
