//! Full-text search of a tenant's documents: their words (text, label,
//! file name, field values), filtered by label, upload time and typed
//! field values, ranked, with facet counts by label.
//!
//! The index lives in the database, so it is written in the transaction
//! that stores a document (and removed in the one that erases or purges
//! it) and every API process reads the same one: SQLite's FTS5 (BM25
//! ranking) embedded, PostgreSQL's `tsvector` with a GIN index
//! (`ts_rank_cd`) at scale. Neither table holds readable text: the FTS5
//! table is contentless and the tsvector keeps lexemes, so with
//! encryption at rest the words are still only in the sealed text
//! (snippets are cut from it by the caller). What an inverted index does
//! reveal — which words occur in a document — is said in docs/security.md.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row};

use crate::{Backend, Store, StoreError};

/// What a document is found by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchEntry {
    pub label: String,
    pub filename: String,
    /// Field values as words: "total 1296.00 vendor ACME Supplies Ltd".
    pub fields_text: String,
    /// The document's text (as stored: redacted when the tenant asks).
    pub body: String,
    /// Field name → (number in hundredths if numeric, normalised value).
    pub values: Vec<(String, Option<i64>, String)>,
}

/// A comparison of a field filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    AtLeast,
    AtMost,
    Equal,
}

/// A filter on a typed field value (`field.total>=100`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFilter {
    pub name: String,
    pub comparison: Comparison,
    /// Compared as a number (to the hundredth) when it parses as one,
    /// else as text (ISO dates compare correctly as text).
    pub value: String,
}

/// A search of one tenant's documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    pub tenant: String,
    /// Words, all of which must occur; `None` lists by filters alone.
    pub text: Option<String>,
    pub label: Option<String>,
    /// Upload time bounds, milliseconds since the epoch (inclusive).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub fields: Vec<FieldFilter>,
    pub offset: u32,
    pub limit: u32,
}

/// One document found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub document_id: String,
    pub label: String,
    pub filename: String,
    pub created_at_ms: i64,
    /// The reciprocal of the hit's position in the whole answer (1, 1/2,
    /// 1/3…), 0 when listing by filters alone. The engines' own scores are
    /// not given out: SQLite's BM25 weighs words by statistics of the whole
    /// index, every tenant's documents included, so its score would tell
    /// how many of other tenants' documents contain a word.
    pub score: f64,
}

/// A page of results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchPage {
    /// Documents matching, over all pages.
    pub total: u64,
    pub hits: Vec<SearchHit>,
    /// Matching documents by label (the label filter left out, so a client
    /// can show the other labels' counts).
    pub facets: BTreeMap<String, u64>,
}

/// The words of `text` the index knows, for a query: letters and digits.
pub fn query_terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(32)
        .map(str::to_lowercase)
        .collect()
}

impl Store {
    /// Create the engine's full-text table if it is missing (migrations
    /// hold only the SQL both engines share).
    pub(crate) async fn ensure_search_schema(&self) -> Result<(), StoreError> {
        let statements: &[&str] = match self.backend() {
            Backend::Sqlite => &[
                "CREATE VIRTUAL TABLE IF NOT EXISTS document_search USING fts5(
                     label, filename, fields, body,
                     content = '', contentless_delete = 1,
                     tokenize = 'unicode61 remove_diacritics 2')",
            ],
            Backend::Postgres => &[
                "CREATE TABLE IF NOT EXISTS document_search (
                     task_id  TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
                     document TSVECTOR NOT NULL)",
                "CREATE INDEX IF NOT EXISTS document_search_words
                     ON document_search USING GIN (document)",
            ],
        };
        // Processes starting together must not race to create the table
        // (PostgreSQL's IF NOT EXISTS is not safe under concurrency).
        let mut transaction = self.pool.begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7264519803)")
                .execute(&mut *transaction)
                .await?;
        }
        for statement in statements {
            sqlx::query(*statement).execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Index `task_id` (replacing what was indexed for it), in the
    /// transaction that stores it.
    pub(crate) async fn index_document(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        task_id: &str,
        entry: &SearchEntry,
    ) -> Result<(), StoreError> {
        self.unindex_document(transaction, task_id).await?;
        let (tenant, created_at): (String, i64) = sqlx::query_as(
            "SELECT j.tenant_id, t.created_at FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.id = $1",
        )
        .bind(task_id)
        .fetch_one(&mut **transaction)
        .await?;
        let rowid = search_rowid(task_id);
        sqlx::query(
            "INSERT INTO document_index (task_id, tenant_id, label, filename, created_at, search_rowid)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(task_id)
        .bind(&tenant)
        .bind(&entry.label)
        .bind(&entry.filename)
        .bind(created_at)
        .bind(rowid)
        .execute(&mut **transaction)
        .await?;
        for (name, number, value) in &entry.values {
            sqlx::query(
                "INSERT INTO document_field_values (task_id, tenant_id, name, hundredths, value)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(task_id)
            .bind(&tenant)
            .bind(name)
            .bind(*number)
            .bind(value)
            .execute(&mut **transaction)
            .await?;
        }
        match self.backend() {
            Backend::Sqlite => {
                sqlx::query(
                    "INSERT INTO document_search (rowid, label, filename, fields, body)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(rowid)
                .bind(&entry.label)
                .bind(&entry.filename)
                .bind(&entry.fields_text)
                .bind(&entry.body)
                .execute(&mut **transaction)
                .await?;
            }
            Backend::Postgres => {
                sqlx::query(
                    "INSERT INTO document_search (task_id, document) VALUES ($1,
                         setweight(to_tsvector('simple', $2 || ' ' || replace($2, '_', ' ') || ' ' || $3), 'A')
                         || setweight(to_tsvector('simple', $4), 'B')
                         || to_tsvector('simple', $5))",
                )
                .bind(task_id)
                .bind(&entry.label)
                .bind(&entry.filename)
                .bind(&entry.fields_text)
                .bind(&entry.body)
                .execute(&mut **transaction)
                .await?;
            }
        }
        Ok(())
    }

    /// Remove `task_id` from the index (erasure, text purge).
    pub(crate) async fn unindex_document(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        task_id: &str,
    ) -> Result<(), StoreError> {
        let delete_words = match self.backend() {
            Backend::Sqlite => {
                "DELETE FROM document_search
                  WHERE rowid IN (SELECT search_rowid FROM document_index WHERE task_id = $1)"
            }
            Backend::Postgres => "DELETE FROM document_search WHERE task_id = $1",
        };
        for statement in [
            delete_words,
            "DELETE FROM document_field_values WHERE task_id = $1",
            "DELETE FROM document_index WHERE task_id = $1",
        ] {
            sqlx::query(statement)
                .bind(task_id)
                .execute(&mut **transaction)
                .await?;
        }
        Ok(())
    }

    /// One page of `query`'s results, best first (newest first without
    /// words), with facet counts by label.
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchPage, StoreError> {
        let terms = query.text.as_deref().map(query_terms).unwrap_or_default();
        let mut filters = SqlFilters::new(self.backend(), &query.tenant);
        if !terms.is_empty() {
            filters.words(&terms);
        }
        if let Some(from) = query.from_ms {
            filters.push("i.created_at >= {}", Bound::Int(from));
        }
        if let Some(to) = query.to_ms {
            filters.push("i.created_at <= {}", Bound::Int(to));
        }
        for field in &query.fields {
            filters.field(field);
        }
        // Facets: every filter but the label's.
        let facet_sql = format!(
            "SELECT i.label, COUNT(*) FROM document_index i {} WHERE {} GROUP BY i.label",
            filters.join,
            filters.conditions.join(" AND ")
        );
        let facet_rows = filters
            .bind(sqlx::query(AssertSqlSafe(facet_sql)))
            .fetch_all(&self.pool)
            .await?;
        let mut facets = BTreeMap::new();
        for row in facet_rows {
            let label: String = row.try_get(0)?;
            let count: i64 = row.try_get(1)?;
            facets.insert(label, count.max(0) as u64);
        }
        if let Some(label) = &query.label {
            filters.push("i.label = {}", Bound::Text(label.clone()));
        }
        let total_sql = format!(
            "SELECT COUNT(*) FROM document_index i {} WHERE {}",
            filters.join,
            filters.conditions.join(" AND ")
        );
        let total: i64 = filters
            .bind(sqlx::query(AssertSqlSafe(total_sql)))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let (score, order) = if terms.is_empty() {
            (
                "CAST(0 AS DOUBLE PRECISION)",
                "i.created_at DESC, i.task_id",
            )
        } else {
            match self.backend() {
                // bm25() is lower for better matches.
                Backend::Sqlite => ("-bm25(document_search)", "1 DESC, i.created_at DESC"),
                Backend::Postgres => (
                    "CAST(ts_rank_cd(s.document, plainto_tsquery('simple', {words})) AS DOUBLE PRECISION)",
                    "1 DESC, i.created_at DESC",
                ),
            }
        };
        let score = score.replace("{words}", &filters.words_placeholder);
        let page_sql = format!(
            "SELECT {score}, i.task_id, i.label, i.filename, i.created_at
               FROM document_index i {} WHERE {} ORDER BY {order} LIMIT {} OFFSET {}",
            filters.join,
            filters.conditions.join(" AND "),
            query.limit.clamp(1, 100),
            query.offset
        );
        let rows = filters
            .bind(sqlx::query(AssertSqlSafe(page_sql)))
            .fetch_all(&self.pool)
            .await?;
        let mut hits = Vec::with_capacity(rows.len());
        for (position, row) in (u64::from(query.offset) + 1..).zip(rows) {
            hits.push(SearchHit {
                score: if terms.is_empty() {
                    0.0
                } else {
                    1.0 / position as f64
                },
                document_id: row.try_get(1)?,
                label: row.try_get(2)?,
                filename: row.try_get(3)?,
                created_at_ms: row.try_get(4)?,
            });
        }
        Ok(SearchPage {
            total: total.max(0) as u64,
            hits,
            facets,
        })
    }
}

/// The FTS5 row id of a document: 63 bits of the SHA-256 of its id.
fn search_rowid(task_id: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(task_id.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) >> 1) as i64
}

/// A bound parameter of a search.
#[derive(Debug, Clone)]
enum Bound {
    Int(i64),
    Text(String),
}

/// The WHERE clause of a search, built from fixed fragments with numbered
/// parameters (no query text is ever spliced into SQL).
struct SqlFilters {
    backend: Backend,
    join: String,
    conditions: Vec<String>,
    binds: Vec<Bound>,
    words_placeholder: String,
}

impl SqlFilters {
    fn new(backend: Backend, tenant: &str) -> SqlFilters {
        SqlFilters {
            backend,
            join: String::new(),
            conditions: vec!["i.tenant_id = $1".to_owned()],
            binds: vec![Bound::Text(tenant.to_owned())],
            words_placeholder: String::new(),
        }
    }

    fn next(&mut self, bound: Bound) -> String {
        self.binds.push(bound);
        format!("${}", self.binds.len())
    }

    /// `fragment` with `{}` replaced by the parameter of `bound`.
    fn push(&mut self, fragment: &str, bound: Bound) {
        let placeholder = self.next(bound);
        self.conditions.push(fragment.replace("{}", &placeholder));
    }

    /// All of `terms`, as each engine's full-text match.
    fn words(&mut self, terms: &[String]) {
        match self.backend {
            Backend::Sqlite => {
                // Each term quoted: FTS5 syntax in the query cannot act.
                let expression = terms
                    .iter()
                    .map(|t| format!("\"{}\"", t.replace('"', "")))
                    .collect::<Vec<_>>()
                    .join(" ");
                let placeholder = self.next(Bound::Text(expression));
                self.join =
                    "JOIN document_search ON document_search.rowid = i.search_rowid".to_owned();
                self.conditions
                    .push(format!("document_search MATCH {placeholder}"));
                self.words_placeholder = placeholder;
            }
            Backend::Postgres => {
                let placeholder = self.next(Bound::Text(terms.join(" ")));
                self.join = "JOIN document_search s ON s.task_id = i.task_id".to_owned();
                self.conditions.push(format!(
                    "s.document @@ plainto_tsquery('simple', {placeholder})"
                ));
                self.words_placeholder = placeholder;
            }
        }
    }

    fn field(&mut self, filter: &FieldFilter) {
        let name = self.next(Bound::Text(filter.name.clone()));
        let operator = match filter.comparison {
            Comparison::AtLeast => ">=",
            Comparison::AtMost => "<=",
            Comparison::Equal => "=",
        };
        let (column, bound) = match filter.value.parse::<f64>() {
            Ok(number) if number.is_finite() && number.abs() < 9e15 => {
                ("v.hundredths", Bound::Int((number * 100.0).round() as i64))
            }
            _ => ("v.value", Bound::Text(filter.value.clone())),
        };
        let value = self.next(bound);
        self.conditions.push(format!(
            "EXISTS (SELECT 1 FROM document_field_values v
                      WHERE v.task_id = i.task_id AND v.name = {name} AND {column} {operator} {value})"
        ));
    }

    fn bind<'q>(
        &self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for bound in &self.binds {
            query = match bound {
                Bound::Int(v) => query.bind(*v),
                Bound::Text(v) => query.bind(v.clone()),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_terms_are_words_only() {
        assert_eq!(
            query_terms("Invoice \"ACME\" OR total:*"),
            vec!["invoice", "acme", "or", "total"]
        );
        assert!(search_rowid("a") >= 0);
        assert_ne!(search_rowid("a"), search_rowid("b"));
    }
}
