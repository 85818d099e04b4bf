//! The fields a document type declares for extraction (`extract = [...]`
//! in a taxonomy): parsed with the taxonomy by `heron-classify`, read by
//! `heron-understand`.

use serde::Deserialize;

/// A field read out of documents of a type (`extract = [...]` in the
/// taxonomy): what it is called in results, what kind of value it holds,
/// and the labels documents print before it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Name in results (`invoice_number`): lowercase letters, digits, `_`.
    pub name: String,
    pub kind: FieldKind,
    /// Reported under `missing_required` when not found.
    #[serde(default)]
    pub required: bool,
    /// Labels printed before the value, in any language, matched without
    /// regard to case, spacing or a trailing colon ("Invoice number",
    /// "Rechnungsnummer", "Invoice #").
    #[serde(default)]
    pub hints: Vec<String>,
    /// For `table`: the columns wanted, each `name = header|header|...`
    /// (`amount = amount|betrag|montant`); the table whose header matches
    /// most of them is the field's.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Report only the last four characters (`****6781`): account
    /// numbers, tax ids.
    #[serde(default)]
    pub mask: bool,
    /// Where to look when no label is found: `letterhead` (the first
    /// organisation-like line at the top of the first page).
    #[serde(default)]
    pub fallback: Option<String>,
}

/// The kind of value a declared field holds; it decides how the value is
/// delimited after its label and how it is normalised.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A calendar date → ISO 8601.
    Date,
    /// Two dates, or a month → `start/end` in ISO 8601.
    Period,
    /// An amount → decimal with its currency.
    Money,
    /// An identifier: one token with digits (invoice or licence number).
    Id,
    /// Free text to the end of the line or the next label.
    String,
    /// A person's name.
    Name,
    /// A company, bank or other organisation.
    Organisation,
    /// A table, found by its columns.
    Table,
    /// An ISO 4217 code: after its label, else the currency the
    /// document's amounts are written in.
    Currency,
}
