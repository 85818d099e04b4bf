//! What Heron reads *inside* a document, beyond its type: typed fields,
//! entities, tables, layout segments, the documents of a packet, and
//! duplicates. The wire contract of `?extract=` and `GET /v1/documents/{id}`.
//!
//! Every located value says where it came from: the page (1-based) and a
//! character span in that page's text as `GET /v1/documents/{id}/text`
//! returns it, plus a bounding box when the page has geometry (OCR words
//! or a PDF text layer).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a value was read: page, character span, and region of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Source {
    /// 1-based page number.
    pub page: u32,
    /// Character offsets (not bytes) into the page's text, end exclusive.
    pub start: u32,
    pub end: u32,
    /// `[x0, y0, x1, y1]` as fractions of the page's width and height
    /// (origin top left), when the page has word geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f32; 4]>,
}

/// One typed field of a document, as declared in the taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldValue {
    /// The value as written in the document.
    pub raw: String,
    /// The normalised value: ISO 8601 date (`2024-03-15`), period
    /// (`2024-03-01/2024-03-31`), decimal amount (`1234.50`), or the
    /// trimmed string.
    pub value: String,
    /// ISO 4217 code of a money value, when the document says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// How sure the reading is, 0..=1.
    pub confidence: f64,
    pub source: Source,
}

/// The fields of a document: declared name → value, plus the declared
/// fields that are required but were not found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Fields {
    pub values: BTreeMap<String, FieldValue>,
    /// Table fields (`kind = "table"`), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, Table>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_required: Vec<String>,
    /// Consistency checks between fields (a statement's transactions
    /// against its balances, an invoice's subtotal and tax against its
    /// total).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// A consistency check between extracted values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Check {
    /// `balances_reconcile`, `running_balance`, `total_equals_subtotal_plus_tax`.
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// A thing named in the text: a date, an amount, an e-mail address...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Entity {
    /// `date`, `money`, `percent`, `email`, `phone`, `address`,
    /// `organisation`, `person`, `iban`, `routing_number`, `account_number`.
    pub kind: String,
    pub text: String,
    /// Normalised form where the kind has one (ISO date, decimal amount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub confidence: f64,
    pub source: Source,
}

/// A table: a header (possibly empty) and rows of cells.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Table {
    pub page: u32,
    /// First and last line of the page the table spans (0-based, inclusive).
    pub lines: [u32; 2],
    /// Region of the page as fractions, when the page has geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f32; 4]>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Sheet name, for spreadsheets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

/// A block of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    /// `header`, `footer`, `title`, `paragraph`, `table`, `key_value`.
    pub kind: String,
    pub page: u32,
    /// Position in reading order within the page, from 0.
    pub order: u32,
    /// Character span of the block in the page's text.
    pub start: u32,
    pub end: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f32; 4]>,
}

/// One document found inside a packet (a PDF of several documents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PacketDocument {
    /// First and last page, 1-based, inclusive.
    pub pages: [u32; 2],
    pub label: String,
    pub confidence: f64,
    #[serde(default)]
    pub fields: Fields,
}

/// Everything read inside one document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Understanding {
    pub fields: Fields,
    pub entities: Vec<Entity>,
    pub tables: Vec<Table>,
    pub segments: Vec<Segment>,
    /// The documents of a packet, in page order; empty for a file that is
    /// one document.
    pub documents: Vec<PacketDocument>,
}

/// The parts of [`Understanding`] a client can ask for with `?extract=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtractParts {
    pub fields: bool,
    pub entities: bool,
    pub tables: bool,
    pub segments: bool,
    pub documents: bool,
}

impl ExtractParts {
    pub const NAMES: &'static [&'static str] =
        &["fields", "entities", "tables", "segments", "documents"];

    /// Every part.
    pub fn all() -> ExtractParts {
        ExtractParts {
            fields: true,
            entities: true,
            tables: true,
            segments: true,
            documents: true,
        }
    }

    /// Parse `fields,tables` (or `all`); an unknown name is returned as the
    /// error so the API can say which.
    pub fn parse(list: &str) -> Result<ExtractParts, String> {
        let mut parts = ExtractParts::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "all" => parts = ExtractParts::all(),
                "fields" => parts.fields = true,
                "entities" => parts.entities = true,
                "tables" => parts.tables = true,
                "segments" => parts.segments = true,
                "documents" => parts.documents = true,
                other => return Err(other.to_owned()),
            }
        }
        Ok(parts)
    }

    pub fn any(&self) -> bool {
        self.fields || self.entities || self.tables || self.segments || self.documents
    }

    /// Put the asked-for parts of `understanding` on `result`.
    pub fn attach(&self, understanding: Understanding, result: &mut crate::ClassificationResult) {
        let Understanding {
            fields,
            entities,
            tables,
            segments,
            documents,
        } = understanding;
        result.fields = self.fields.then_some(fields);
        result.entities = self.entities.then_some(entities);
        result.tables = self.tables.then_some(tables);
        result.segments = self.segments.then_some(segments);
        result.documents = self.documents.then_some(documents);
    }
}

/// A result's pointer to an earlier document of the same tenant it
/// duplicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateOf {
    pub document_id: String,
    /// `exact` (same bytes), `same_text` (same normalised text: a re-save or
    /// re-scan), `near` (estimated text similarity at or above the
    /// configured threshold).
    pub kind: String,
    /// Estimated Jaccard similarity of the two texts' word shingles.
    pub similarity: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_lists_parse_and_reject_unknown_parts() {
        let parts = ExtractParts::parse("fields, tables").unwrap();
        assert!(parts.fields && parts.tables && !parts.entities);
        assert_eq!(ExtractParts::parse("all").unwrap(), ExtractParts::all());
        assert_eq!(
            ExtractParts::parse("fields,colour"),
            Err("colour".to_owned())
        );
        assert!(!ExtractParts::parse("").unwrap().any());
    }

    #[test]
    fn only_the_asked_parts_are_attached() {
        let parts = ExtractParts::parse("entities").unwrap();
        let mut result = crate::ClassificationResult::default();
        parts.attach(Understanding::default(), &mut result);
        let json = serde_json::to_value(&result).unwrap();
        assert!(json.get("entities").is_some());
        assert!(json.get("fields").is_none() && json.get("tables").is_none());
    }
}
