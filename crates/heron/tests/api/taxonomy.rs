//! New document types without code: a taxonomy file adds an industry
//! (real estate: lease agreements and property appraisals) beside three
//! existing types; `heron generate` writes 20 examples of each, `heron
//! train --activate` learns them, and fresh examples (another seed, so
//! other values and layouts) are classified right.

use std::path::Path;
use std::process::Command;

const TAXONOMY: &str = r#"
version = "test-real-estate-1"

[industries.accounting]
name = "Accounting"
[industries.banking]
name = "Banking"
[industries.real_estate]
name = "Real estate"

[families.billing]
industry = "accounting"
name = "Billing"
[families.accounts]
industry = "banking"
name = "Accounts"
[families.property]
industry = "real_estate"
name = "Property documents"

[types.invoice]
family = "billing"
name = "Invoice"
titles = ["INVOICE|RECHNUNG|FACTURE|FACTURA"]
parties = ["company", "customer"]
fields = ["Invoice number = ref", "Invoice date = date", "Total due = money", "VAT number = code"]
columns = ["Description", "Qty", "Amount"]
rows = ["Consulting services", "Office chairs", "Shipping"]
sentences = ["Payment is due within 30 days of the invoice date."]

[types.bank_statement]
family = "accounts"
name = "Bank statement"
titles = ["Account Statement", "Bank Statement"]
parties = ["bank", "customer"]
fields = ["Account number = iban", "Statement period = period", "Opening balance = money", "Closing balance = money"]
columns = ["Date", "Description", "Amount"]
rows = ["Card purchase", "Direct debit", "Salary deposit"]
sentences = ["Please check your statement and report any discrepancies within 30 days."]

[types.lease_agreement]
family = "property"
name = "Residential lease agreement"
titles = ["Residential Lease Agreement", "Tenancy Agreement"]
parties = ["person", "person"]
fields = ["Landlord = name", "Tenant = name", "Premises = address", "Monthly rent = money", "Security deposit = money", "Lease term (months) = count", "Commencement date = date"]
sentences = ["The Tenant shall pay the rent on the first day of each month.", "The Tenant shall not sublet the premises without the Landlord's written consent.", "The security deposit will be returned within 30 days after the tenancy ends."]

[types.property_appraisal]
family = "property"
name = "Property appraisal"
titles = ["Uniform Residential Appraisal Report", "Property Valuation Report"]
parties = ["company", "person"]
fields = ["Subject property = address", "Appraised value = money", "Effective date of appraisal = date", "Gross living area (sq ft) = count", "Year built = count", "Appraiser licence = id"]
columns = ["Comparable", "Sale price", "Adjustment"]
rows = ["Comparable sale 1", "Comparable sale 2", "Comparable sale 3"]
sentences = ["The purpose of this appraisal is to provide an opinion of market value.", "The appraiser inspected the interior and exterior of the subject property."]
"#;

fn heron(data_dir: &Path, taxonomy: &Path, args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_heron"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("HERON_TAXONOMY", taxonomy)
        .env("HERON_LOG_FORMAT", "pretty")
        .output()
        .expect("running heron");
    assert!(
        output.status.success() || output.status.code() == Some(2),
        "heron {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn a_new_industry_is_learned_from_a_taxonomy_file_and_examples() {
    if !crate::support::tools_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let taxonomy = work.path().join("taxonomy.toml");
    std::fs::write(&taxonomy, TAXONOMY).unwrap();
    let data_dir = work.path().join("data");
    let training = work.path().join("training");
    let fresh = work.path().join("fresh");

    let training_arg = training.to_str().unwrap();
    heron(
        &data_dir,
        &taxonomy,
        &[
            "generate",
            "--out",
            training_arg,
            "--per-type",
            "20",
            "--seed",
            "5",
            "--images",
            "false",
        ],
    );
    for folder in [
        "lease_agreement",
        "property_appraisal",
        "invoice",
        "bank_statement",
    ] {
        let count = std::fs::read_dir(training.join(folder)).unwrap().count();
        assert_eq!(count, 20, "{folder}");
    }
    let output = heron(
        &data_dir,
        &taxonomy,
        &["train", "--data", training_arg, "--activate"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("activated"), "{stdout}");

    heron(
        &data_dir,
        &taxonomy,
        &[
            "generate",
            "--out",
            fresh.to_str().unwrap(),
            "--per-type",
            "5",
            "--seed",
            "77",
            "--images",
            "false",
        ],
    );
    let mut files = Vec::new();
    for folder in ["lease_agreement", "property_appraisal"] {
        for entry in std::fs::read_dir(fresh.join(folder)).unwrap() {
            files.push((folder, entry.unwrap().path()));
        }
    }
    let mut args = vec!["classify".to_owned(), "--json".to_owned()];
    args.extend(files.iter().map(|(_, p)| p.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = heron(&data_dir, &taxonomy, &args);
    let results: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), files.len());
    for ((expected, path), result) in files.iter().zip(&results) {
        assert_eq!(result["label"], *expected, "{}: {result}", path.display());
        assert_eq!(result["label_path"][0]["id"], "real_estate", "{result}");
        assert_eq!(result["label_path"][1]["id"], "property", "{result}");
    }

    // Measured on the fresh examples, the risk–coverage curve replaces the
    // validation split's in the active model.
    let report = work.path().join("report");
    let output = heron(
        &data_dir,
        &taxonomy,
        &[
            "eval",
            "--data",
            fresh.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
            "--target-error",
            "0.05",
            "--record",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Recorded the risk–coverage curve"),
        "{stdout}"
    );
    let markdown = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(markdown.contains("Target error rate 5.00 %"), "{markdown}");
    for chart in ["reliability.svg", "confusion.svg"] {
        let svg = std::fs::read_to_string(report.join(chart)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{chart}");
    }
    let active = std::fs::read_to_string(data_dir.join("models/active")).unwrap();
    let output = heron(&data_dir, &taxonomy, &["models", "show", active.trim()]);
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        shown["risk_coverage_measured_on"]
            .as_str()
            .unwrap()
            .starts_with("heron eval of 20 documents"),
        "{shown:#}"
    );
}

/// `heron train --activate` next to a running server: the server switches
/// to the new model within seconds, without a restart; `heron models
/// rollback` switches it back.
#[tokio::test]
async fn a_running_server_switches_to_a_newly_activated_model() {
    if !crate::support::tools_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    // Start from the shared default model so this server need not train.
    let shared = std::env::temp_dir().join("heron-test-models");
    for entry in std::fs::read_dir(&shared).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("default-") && name.ends_with(".htm") {
            let _ = std::fs::copy(entry.path(), models.join(&name));
        }
    }
    let models_arg = models.to_str().unwrap().to_owned();
    let server =
        crate::support::TestServer::start(&[("HERON_MODELS_DIR", models_arg.as_str())]).await;
    let version: serde_json::Value = server.get("/v1/version").await.json().await.unwrap();
    let default_id = version["model_id"].as_str().unwrap().to_owned();

    let taxonomy = work.path().join("taxonomy.toml");
    std::fs::write(&taxonomy, TAXONOMY).unwrap();
    let training = work.path().join("training");
    let data_dir = work.path().join("data");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_heron"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(args)
            .env("HERON_TAXONOMY", &taxonomy)
            .env("HERON_MODELS_DIR", &models)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    run(&[
        "generate",
        "--out",
        training.to_str().unwrap(),
        "--per-type",
        "10",
        "--images",
        "false",
    ]);
    run(&["train", "--data", training.to_str().unwrap(), "--activate"]);
    let listed = run(&["models", "list"]);
    assert!(listed.lines().any(|l| l.starts_with('*')), "{listed}");

    let served = |server: &crate::support::TestServer| {
        let url = server.url("/v1/version");
        async move {
            let version: serde_json::Value =
                reqwest::get(&url).await.unwrap().json().await.unwrap();
            (
                version["model_id"].as_str().unwrap_or("").to_owned(),
                version["model_labels"].as_array().map_or(0, Vec::len),
            )
        }
    };
    let mut switched = false;
    for _ in 0..50 {
        let (id, labels) = served(&server).await;
        if id != default_id {
            assert_eq!(
                labels, 4,
                "the new model knows the four types of the taxonomy file"
            );
            switched = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(switched, "the server kept {default_id}:\n{}", server.log());

    run(&["models", "rollback"]);
    let mut back = false;
    for _ in 0..50 {
        if served(&server).await.0 == default_id {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(back, "rollback did not reach the server:\n{}", server.log());
}
