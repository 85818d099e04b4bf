//! Document understanding: what a document *says*, once its type is known.
//!
//! From the text of each page (and, where the source has it, the position
//! of every word) this crate reads:
//! - the **fields** the taxonomy declares for the type ([`fields`]): found
//!   after their printed labels, delimited and normalised by kind (dates to
//!   ISO 8601, amounts to decimals with a currency), located by page,
//!   character span and box;
//! - **entities** in any document ([`entities`]);
//! - **tables** ([`tables`]): from word positions (column alignment), or
//!   from delimited lines; a bank statement's transactions are checked to
//!   reconcile with its balances;
//! - **segments** ([`segments`]): header, footer, title, paragraph, table,
//!   key-value blocks in reading order;
//! - **packets** ([`split`]): where one document of a multi-document PDF
//!   ends and the next begins;
//! - **fingerprints** ([`fingerprint`]): hashes of normalised text and
//!   MinHash signatures for exact and near-duplicate detection.
//!
//! Pure: text in, data out. It never fails; what it cannot read is absent.

pub mod entities;
pub mod fields;
pub mod fingerprint;
pub mod normalise;
mod page;
pub mod segments;
pub mod split;
pub mod tables;
pub mod testset;

use heron_core::fields::FieldSpec;
use heron_core::layout::PageLayout;
use heron_core::understanding::Understanding;

pub use page::Page;

/// Read everything but the packet split from a document's pages, with the
/// fields `specs` declares (the taxonomy's for the document's type).
pub fn understand(pages: &[String], layout: &[PageLayout], specs: &[FieldSpec]) -> Understanding {
    let pages = Page::all(pages, layout);
    let tables = tables::find(&pages);
    let fields = fields::extract(&pages, &tables, specs);
    Understanding {
        entities: entities::find(&pages),
        segments: segments::find(&pages, &tables),
        fields,
        tables,
        documents: Vec::new(),
    }
}
