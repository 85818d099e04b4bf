//! Document understanding over HTTP: typed fields, tables and their
//! reconciliation with `?extract=`, everything stored on
//! `GET /v1/documents/{id}`, duplicates (`duplicate_of`, `/similar`,
//! `/v1/compare`) within a tenant only, and what erasure leaves.

use serde_json::{Value, json};

use crate::support::{TestServer, json_of};

/// A statement whose transactions reconcile with its balances.
const STATEMENT: &str = "Riverside Savings Bank\nAccount Statement\nAccount Holder: Maria Lopez\nAccount Number: 4417 1234 5678 9113\nStatement Period: 01/03/2024 to 31/03/2024\nOpening Balance: 2,500.00\n\nDate | Description | Amount | Balance\n02/03/2024 | Card purchase Grocer | -84.20 | 2,415.80\n15/03/2024 | Salary deposit | 3,100.00 | 5,515.80\n28/03/2024 | Rent standing order | -1,450.00 | 4,065.80\n\nClosing Balance: 4,065.80\nPlease check your statement and report any discrepancies within 30 days.";

fn field<'a>(result: &'a Value, name: &str) -> &'a Value {
    &result["fields"]["values"][name]["value"]
}

#[tokio::test]
async fn fields_and_tables_come_with_extract_and_stay_on_the_document() {
    let server = TestServer::start(&[]).await;
    let admin = server.create_key("acme", "admin");
    let files = vec![("upload_17.txt".to_owned(), STATEMENT.as_bytes().to_vec())];
    // Without `extract` the response stays as small as the original's.
    let plain = json_of(server.upload_with(&files, Some(&admin), &[]).await).await;
    assert!(plain[0].get("fields").is_none() && plain[0].get("tables").is_none());

    let response = server
        .upload_to("/v1/files?extract=fields,tables", &files, Some(&admin), &[])
        .await;
    assert_eq!(response.status(), 200);
    let results = json_of(response).await;
    let result = &results[0];
    assert_eq!(result["label"], "bank_statement", "{result}");
    assert_eq!(field(result, "account_holder"), "Maria Lopez");
    assert_eq!(field(result, "account_number"), "****9113");
    assert_eq!(field(result, "period"), "2024-03-01/2024-03-31");
    assert_eq!(field(result, "opening_balance"), "2500.00");
    assert_eq!(field(result, "closing_balance"), "4065.80");
    let transactions = &result["fields"]["tables"]["transactions"];
    assert_eq!(transactions["rows"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        transactions["rows"][1],
        json!(["2024-03-15", "Salary deposit", "3100.00", "5515.80"])
    );
    let checks = result["fields"]["checks"].as_array().expect("checks");
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:?}");
    assert!(result["tables"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(result.get("entities").is_none());
    // The span points at the value in the stored text.
    let holder = &result["fields"]["values"]["account_holder"]["source"];
    let start = holder["start"].as_u64().unwrap() as usize;
    let spelled: String = STATEMENT.chars().skip(start).take(11).collect();
    assert_eq!(spelled, "Maria Lopez");
    // The second upload of the same bytes says whose duplicate it is.
    let first = plain[0]["document_id"].as_str().unwrap();
    assert_eq!(result["duplicate_of"]["document_id"], first);
    assert_eq!(result["duplicate_of"]["kind"], "exact");

    let document_id = result["document_id"].as_str().unwrap();
    let document = json_of(
        server
            .call(
                "GET",
                &format!("/v1/documents/{document_id}"),
                Some(&admin),
                None,
            )
            .await,
    )
    .await;
    let understanding = &document["understanding"];
    assert_eq!(
        understanding["fields"]["values"]["closing_balance"]["value"],
        "4065.80"
    );
    assert!(
        understanding["entities"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["kind"] == "date"))
    );
    assert!(
        understanding["segments"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["kind"] == "table"))
    );

    // An unknown part is the client's error.
    let refused = server
        .upload_to("/v1/files?extract=colours", &files, Some(&admin), &[])
        .await;
    crate::support::assert_error(refused, 400, "invalid_query").await;
}

#[tokio::test]
async fn corpus_a_sample_statement_pdf_yields_its_holder_account_and_transactions() {
    if !crate::support::tools_available() {
        return;
    }
    let Some(statement) = heron_testkit::corpus_sample("bank_statement_1.pdf") else {
        return;
    };
    let server = TestServer::start(&[]).await;
    let key = server.create_key("acme", "uploader");
    let files = vec![("scan_0042.pdf".to_owned(), statement)];
    let response = server
        .upload_to("/v1/files?extract=fields", &files, Some(&key), &[])
        .await;
    let results = json_of(response).await;
    let result = &results[0];
    // Values read by a person from the sample.
    assert_eq!(field(result, "account_holder"), "John Doe 1", "{results}");
    assert_eq!(field(result, "account_number"), "****6781");
    assert_eq!(field(result, "period"), "2023-01-01/2023-01-31");
    let transactions = &result["fields"]["tables"]["transactions"];
    let rows = transactions["rows"].as_array().expect("transactions");
    assert!(rows.len() >= 16, "{transactions}");
    assert_eq!(rows[0][0], "2023-01-01");
    assert_eq!(rows[0][1], "Direct Deposit");
    // Debit and credit columns fold into a signed amount.
    assert!(rows.iter().any(|r| r[2] == "326.73"), "{transactions}");
    assert!(rows.iter().any(|r| r[2] == "-464.84"), "{transactions}");
    // Boxes come from the PDF's text layer.
    assert!(result["fields"]["values"]["account_holder"]["source"]["bbox"].is_array());
}

#[tokio::test]
async fn duplicates_are_found_within_a_tenant_only() {
    let server = TestServer::start(&[]).await;
    let acme = server.create_key("acme", "admin");
    let globex = server.create_key("globex", "admin");
    let original = server.upload_document(&acme, "a.txt", STATEMENT).await;
    // A re-export: other spacing and case, same words.
    let resaved = STATEMENT.replace('\n', "\r\n\r\n").to_uppercase();
    let upload = |key: String, name: &'static str, text: String| {
        let server = &server;
        async move {
            let files = vec![(name.to_owned(), text.into_bytes())];
            json_of(server.upload_with(&files, Some(&key), &[]).await).await[0].clone()
        }
    };
    let same_text = upload(acme.clone(), "b.txt", resaved).await;
    assert_eq!(
        same_text["duplicate_of"]["kind"], "same_text",
        "{same_text}"
    );
    assert_eq!(same_text["duplicate_of"]["document_id"], original.as_str());
    // A re-scan with a few misread words.
    let rescan = STATEMENT
        .replace("Salary deposit", "Salary dep0sit")
        .replace("discrepancies", "discrepancles");
    let near = upload(acme.clone(), "c.txt", rescan).await;
    assert_eq!(near["duplicate_of"]["kind"], "near", "{near}");
    assert!(near["duplicate_of"]["similarity"].as_f64().unwrap() >= 0.8);
    // The same text in another tenant duplicates nothing there.
    let foreign = upload(globex.clone(), "a.txt", STATEMENT.to_owned()).await;
    assert!(foreign.get("duplicate_of").is_none(), "{foreign}");
    let other = server
        .upload_document(
            &acme,
            "memo.txt",
            "Meeting moved to Thursday at noon; bring the quarterly figures and the venue booking.",
        )
        .await;

    let similar = json_of(
        server
            .call(
                "GET",
                &format!("/v1/documents/{original}/similar"),
                Some(&acme),
                None,
            )
            .await,
    )
    .await;
    let ids: Vec<&str> = similar["similar"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["document_id"].as_str())
        .collect();
    assert!(
        ids.contains(&same_text["document_id"].as_str().unwrap()),
        "{similar}"
    );
    assert!(
        ids.contains(&near["document_id"].as_str().unwrap()),
        "{similar}"
    );
    assert!(!ids.contains(&foreign["document_id"].as_str().unwrap()));
    assert!(!ids.contains(&other.as_str()));
    let refused = server
        .call(
            "GET",
            &format!("/v1/documents/{original}/similar"),
            Some(&globex),
            None,
        )
        .await;
    crate::support::assert_error(refused, 404, "document_not_found").await;

    let body = json!({ "document_ids": [original, same_text["document_id"], near["document_id"], other, foreign["document_id"]] });
    let compared = json_of(
        server
            .call("POST", "/v1/compare", Some(&acme), Some(body))
            .await,
    )
    .await;
    let groups = compared["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "{compared}");
    assert_eq!(groups[0]["document_ids"].as_array().map(Vec::len), Some(3));
    assert_eq!(compared["unknown"], json!([foreign["document_id"]]));

    // Files sent with the request are compared too, and not stored.
    let form = reqwest::multipart::Form::new()
        .text("document_ids", original.clone())
        .part(
            "files",
            reqwest::multipart::Part::bytes(STATEMENT.to_lowercase().into_bytes())
                .file_name("copy.txt"),
        )
        .part(
            "files",
            reqwest::multipart::Part::bytes(
                b"A short memo about the office picnic and its menu.".to_vec(),
            )
            .file_name("memo.txt"),
        );
    let response = reqwest::Client::new()
        .post(server.url("/v1/compare"))
        .header("x-api-key", &acme)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let with_files = json_of(response).await;
    let groups = with_files["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "{with_files}");
    let members = groups[0]["document_ids"].as_array().unwrap();
    assert_eq!(members.len(), 2, "{with_files}");
    assert!(members.contains(&json!("file:0:copy.txt")) && members.contains(&json!(original)));
    assert_eq!(groups[0]["pairs"][0]["kind"], "same_text");
    let listed = json_of(server.call("GET", "/v1/search", Some(&acme), None).await).await;
    assert!(!listed.to_string().contains("copy.txt"), "{listed}");

    // Erasure takes the document out of every answer.
    let erased = server
        .call(
            "DELETE",
            &format!("/v1/documents/{}", near["document_id"].as_str().unwrap()),
            Some(&acme),
            None,
        )
        .await;
    assert_eq!(erased.status(), 204);
    let similar = json_of(
        server
            .call(
                "GET",
                &format!("/v1/documents/{original}/similar"),
                Some(&acme),
                None,
            )
            .await,
    )
    .await;
    assert_eq!(
        similar["similar"].as_array().map(Vec::len),
        Some(1),
        "{similar}"
    );
}

/// An invoice in words, with its total.
fn invoice(number: u32, vendor: &str, total: &str) -> String {
    format!(
        "{vendor}\nINVOICE\nInvoice Number: INV-{number}\nInvoice Date: 2024-03-{:02}\nBill To: Globex Corporation\nDescription: hydraulic valves and fittings\nSubtotal {total}\nTotal Due {total}\nPayment is due within 30 days.",
        number % 28 + 1
    )
}

#[tokio::test]
async fn search_finds_words_labels_and_field_values_of_the_callers_tenant() {
    let server = TestServer::start(&[]).await;
    let acme = server.create_key("acme", "admin");
    let globex = server.create_key("globex", "admin");
    let cheap = server
        .upload_document(&acme, "a.txt", &invoice(1, "Alder Supplies Ltd", "$120.00"))
        .await;
    let dear = server
        .upload_document(
            &acme,
            "b.txt",
            &invoice(2, "Granite Industries Inc.", "$9,800.00"),
        )
        .await;
    let statement = server.upload_document(&acme, "c.txt", STATEMENT).await;
    server
        .upload_document(
            &globex,
            "d.txt",
            &invoice(3, "Alder Supplies Ltd", "$120.00"),
        )
        .await;
    let search = |key: String, query: &'static str| {
        let server = &server;
        async move {
            let response = server
                .call("GET", &format!("/v1/search?{query}"), Some(&key), None)
                .await;
            assert_eq!(response.status(), 200, "{query}");
            json_of(response).await
        }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["document_id"].as_str().unwrap().to_owned())
            .collect()
    };

    // Words: only the caller's tenant's documents, with a snippet.
    let found = search(acme.clone(), "q=hydraulic%20valves").await;
    assert_eq!(found["total"], 2, "{found}");
    assert!(!ids(&found).contains(&statement));
    let snippet = found["results"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<b>hydraulic</b>"), "{snippet}");
    assert_eq!(found["facets"]["label"]["invoice"], 2);
    let alder = search(acme.clone(), "q=alder").await;
    assert_eq!(ids(&alder), vec![cheap.clone()]);

    // Labels, facets over all of them, and typed field values.
    let all = search(acme.clone(), "").await;
    assert_eq!(all["total"], 3);
    assert_eq!(all["facets"]["label"]["bank_statement"], 1);
    let statements = search(acme.clone(), "label=bank_statement").await;
    assert_eq!(ids(&statements), vec![statement.clone()]);
    assert_eq!(statements["facets"]["label"]["invoice"], 2);
    let expensive = search(acme.clone(), "field.total>=1000").await;
    assert_eq!(ids(&expensive), vec![dear.clone()]);
    let cheaper = search(acme.clone(), "field.total<=1000&q=invoice").await;
    assert_eq!(ids(&cheaper), vec![cheap.clone()]);
    let by_number = search(acme.clone(), "field.invoice_number=INV-2").await;
    assert_eq!(ids(&by_number), vec![dear.clone()]);
    let future = search(acme.clone(), "from=2999-01-01").await;
    assert_eq!(future["total"], 0);

    // Pages.
    let first = search(acme.clone(), "limit=2").await;
    assert_eq!(
        (
            first["results"].as_array().unwrap().len(),
            first["next_offset"].as_u64()
        ),
        (2, Some(2))
    );
    let second = search(acme.clone(), "limit=2&offset=2").await;
    assert_eq!(second["results"].as_array().unwrap().len(), 1);
    assert!(second["next_offset"].is_null());

    // Another tenant sees only its own.
    let theirs = search(globex.clone(), "q=alder").await;
    assert_eq!(theirs["total"], 1);
    assert!(!ids(&theirs).contains(&cheap));

    // Erased documents leave the index.
    let erased = server
        .call(
            "DELETE",
            &format!("/v1/documents/{cheap}"),
            Some(&acme),
            None,
        )
        .await;
    assert_eq!(erased.status(), 204);
    let after = search(acme.clone(), "q=alder").await;
    assert_eq!(after["total"], 0, "{after}");

    let refused = server
        .call("GET", "/v1/search?field.Bad%20Name>=1", Some(&acme), None)
        .await;
    crate::support::assert_error(refused, 400, "invalid_query").await;
}

/// The shared samples, under opaque names, and the values a person reads
/// on them. Placeholders of the template invoices ("Date", "Company
/// Name") and what the scans do not show legibly are not asked for.
#[tokio::test]
async fn corpus_fields_of_the_shared_samples_match_what_a_person_reads() {
    if !crate::support::tools_available() || heron_testkit::corpus("samples").is_none() {
        return;
    }
    let server = TestServer::start(&[]).await;
    let key = server.create_key("acme", "uploader");
    let names = [
        "bank_statement_2.pdf",
        "bank_statement_cb1ec9cf.csv",
        "invoice_1.pdf",
        "invoice_2.pdf",
        "drivers_license_1.jpg",
    ];
    let files: Vec<(String, Vec<u8>)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let extension = name.rsplit('.').next().unwrap_or("bin");
            let bytes = heron_testkit::corpus_sample(name).expect("the samples are there");
            (format!("upload_{i}.{extension}"), bytes)
        })
        .collect();
    let response = server
        .upload_to("/v1/files?extract=fields", &files, Some(&key), &[])
        .await;
    assert_eq!(response.status(), 200);
    let results = json_of(response).await;
    let value = |i: usize, name: &str| field(&results[i], name).as_str().map(str::to_owned);

    // Bank statement 2 (PDF): holder, masked account, the month, 18 rows.
    assert_eq!(
        value(0, "account_holder").as_deref(),
        Some("John Doe 2"),
        "{}",
        results[0]
    );
    assert_eq!(value(0, "account_number").as_deref(), Some("****6782"));
    assert_eq!(value(0, "bank").as_deref(), Some("Bank 2 of Testing"));
    assert_eq!(value(0, "period").as_deref(), Some("2023-02-01/2023-02-28"));
    let rows = results[0]["fields"]["tables"]["transactions"]["rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 18);
    assert_eq!(rows[0], json!(["2023-02-14", "Wire Transfer", "-154.08"]));

    // The CSV statement: its 14 transactions, signed as written.
    let rows = results[1]["fields"]["tables"]["transactions"]["rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 14, "{}", results[1]);
    assert_eq!(
        rows[1],
        json!([
            "2025-04-02",
            "Project Congress young by black list.",
            "-403.32"
        ])
    );
    assert!(results[1]["fields"]["values"].get("bank").is_none());

    // Invoice 1 (a template): its number beside the label.
    assert_eq!(
        value(2, "invoice_number").as_deref(),
        Some("1234"),
        "{}",
        results[2]
    );
    assert!(value(2, "customer").is_none());
    // Invoice 2: a letter-spaced label over its date, the customer under
    // a right-aligned label.
    assert_eq!(
        value(3, "issue_date").as_deref(),
        Some("2023-12-15"),
        "{}",
        results[3]
    );
    assert_eq!(value(3, "customer").as_deref(), Some("MORGAN MAXWELL"));

    // The licence photo, read by OCR: number and date of birth, located.
    assert_eq!(
        value(4, "licence_number").as_deref(),
        Some("P99999999"),
        "{}",
        results[4]
    );
    assert_eq!(value(4, "date_of_birth").as_deref(), Some("1981-01-01"));
    assert!(results[4]["fields"]["values"]["licence_number"]["source"]["bbox"].is_array());
    // "ANY STATE" over "DRIVER LICENSE" is not a state label and its value.
    assert!(value(4, "issuing_authority").as_deref() != Some("LICENSE"));
}
