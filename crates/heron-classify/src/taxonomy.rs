//! The taxonomy: industry → family → document type, read from TOML.
//!
//! Heron ships `taxonomy/default.toml` (36 types in 9 industries, the
//! original service's seven label ids among them); a user replaces it with
//! their own file to add types and industries without code. Types may carry
//! a template (titles, fields, table, sentences in several languages) from
//! which [`crate::compose`] writes synthetic training documents.

use std::collections::BTreeMap;

use heron_core::Label;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The default taxonomy, compiled in.
pub const DEFAULT_TAXONOMY: &str = include_str!("../taxonomy/default.toml");

/// Why a taxonomy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("type id {0:?} is not a valid label (lowercase letters, digits and _)")]
    BadId(String),
    #[error("type {id:?} names family {family:?}, which is not defined")]
    UnknownFamily { id: String, family: String },
    #[error("family {family:?} names industry {industry:?}, which is not defined")]
    UnknownIndustry { family: String, industry: String },
    #[error("the taxonomy defines no document types")]
    Empty,
    #[error("type {id:?}: field {field:?} is not \"labels = kind\" with a known kind")]
    BadField { id: String, field: String },
    #[error("type {id:?}: extracted field {field:?} {problem}")]
    BadExtract {
        id: String,
        field: String,
        problem: &'static str,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    #[serde(default)]
    industries: BTreeMap<String, Industry>,
    #[serde(default)]
    families: BTreeMap<String, Family>,
    #[serde(default)]
    types: BTreeMap<String, TypeEntry>,
}

/// A top-level group of document types.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Industry {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A group of related types inside an industry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub industry: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeEntry {
    family: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    titles: Vec<String>,
    #[serde(default)]
    parties: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    columns: Vec<String>,
    #[serde(default)]
    rows: Vec<String>,
    #[serde(default)]
    sentences: Vec<String>,
    #[serde(default)]
    extract: Vec<FieldSpec>,
}

/// Fields are declared in `heron-core` (the understanding stage reads
/// them without depending on classification).
pub use heron_core::fields::{FieldKind, FieldSpec};

/// One document type.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentType {
    pub id: Label,
    pub family: String,
    pub industry: String,
    pub name: String,
    pub description: String,
    /// Phrases typical of the type (shown in explanations, used by the
    /// generator as extra wording).
    pub hints: Vec<String>,
    /// How to write synthetic examples; `None` when the type has none.
    pub template: Option<Template>,
    /// The fields read out of documents of this type.
    pub extract: Vec<FieldSpec>,
}

/// A text in several languages: English first, then German, French,
/// Spanish; missing ones fall back to English.
#[derive(Debug, Clone, PartialEq)]
pub struct Multilingual(Vec<String>);

/// Languages a template may be written in, in `Multilingual` order.
pub const LANGUAGES: &[&str] = &["en", "de", "fr", "es"];

impl Multilingual {
    fn parse(raw: &str) -> Multilingual {
        Multilingual(raw.split('|').map(|s| s.trim().to_owned()).collect())
    }

    /// The text in language `index` of [`LANGUAGES`].
    pub fn get(&self, language: usize) -> &str {
        self.0
            .get(language)
            .filter(|s| !s.is_empty())
            .or_else(|| self.0.first())
            .map_or("", String::as_str)
    }

    /// Whether the text exists in that language (not only English).
    pub fn has(&self, language: usize) -> bool {
        self.0.get(language).is_some_and(|s| !s.is_empty())
    }
}

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Id,
    Ref,
    Date,
    Period,
    Money,
    Name,
    Company,
    Address,
    Percent,
    Count,
    Iban,
    Phone,
    Email,
    Code,
    Weight,
    Years,
    Word,
}

impl ValueKind {
    fn parse(kind: &str) -> Option<ValueKind> {
        Some(match kind {
            "id" => ValueKind::Id,
            "ref" => ValueKind::Ref,
            "date" => ValueKind::Date,
            "period" => ValueKind::Period,
            "money" => ValueKind::Money,
            "name" => ValueKind::Name,
            "company" => ValueKind::Company,
            "address" => ValueKind::Address,
            "percent" => ValueKind::Percent,
            "count" => ValueKind::Count,
            "iban" => ValueKind::Iban,
            "phone" => ValueKind::Phone,
            "email" => ValueKind::Email,
            "code" => ValueKind::Code,
            "weight" => ValueKind::Weight,
            "years" => ValueKind::Years,
            "word" => ValueKind::Word,
            _ => return None,
        })
    }
}

/// A labelled field of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub label: Multilingual,
    pub kind: ValueKind,
}

/// How the generator writes a type.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub titles: Vec<Multilingual>,
    /// Who appears in the header: `company`, `customer`, `person`, `bank`...
    pub parties: Vec<String>,
    pub fields: Vec<Field>,
    pub columns: Vec<Multilingual>,
    pub rows: Vec<Multilingual>,
    pub sentences: Vec<Multilingual>,
}

impl Template {
    /// Keep only the English wording (for a model that reads English
    /// only): documents generated from it are then all English.
    pub fn english_only(&mut self) {
        for title in &mut self.titles {
            title.0.truncate(1);
        }
    }

    /// Languages (indices into [`LANGUAGES`]) the template's titles exist in.
    pub fn languages(&self) -> Vec<usize> {
        (0..LANGUAGES.len())
            .filter(|&l| self.titles.iter().any(|t| t.has(l)))
            .collect()
    }
}

/// A parsed, checked taxonomy.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub version: String,
    pub industries: BTreeMap<String, Industry>,
    pub families: BTreeMap<String, Family>,
    /// In id order.
    pub types: Vec<DocumentType>,
    /// SHA-256 of the source text, recorded in models trained on it.
    pub hash: String,
}

/// Refuse declared fields a result could not carry: bad or repeated
/// names, labels missing where the kind needs them.
fn check_extract(id: &str, specs: &[FieldSpec]) -> Result<(), TaxonomyError> {
    let bad = |field: &str, problem| TaxonomyError::BadExtract {
        id: id.to_owned(),
        field: field.to_owned(),
        problem,
    };
    let mut seen = std::collections::BTreeSet::new();
    for spec in specs {
        let name_ok = !spec.name.is_empty()
            && spec
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            return Err(bad(
                &spec.name,
                "has a name other than lowercase letters, digits and _",
            ));
        }
        if !seen.insert(spec.name.as_str()) {
            return Err(bad(&spec.name, "is declared twice"));
        }
        match spec.kind {
            FieldKind::Table if spec.columns.is_empty() => {
                return Err(bad(&spec.name, "is a table without columns"));
            }
            FieldKind::Table if spec.columns.iter().any(|c| !c.contains('=')) => {
                return Err(bad(
                    &spec.name,
                    "has a column that is not \"name = headers\"",
                ));
            }
            FieldKind::Table => {}
            _ if spec.hints.is_empty() && spec.fallback.is_none() => {
                return Err(bad(&spec.name, "has neither hints nor a fallback"));
            }
            _ => {}
        }
        if let Some(fallback) = &spec.fallback
            && fallback != "letterhead"
        {
            return Err(bad(
                &spec.name,
                "has an unknown fallback (known: letterhead)",
            ));
        }
    }
    Ok(())
}

/// One level of a label's path with the probability mass under it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PathLevel {
    pub level: &'static str,
    pub id: String,
    pub confidence: f64,
}

impl Taxonomy {
    /// The taxonomy shipped with Heron.
    pub fn default_taxonomy() -> Taxonomy {
        Taxonomy::parse(DEFAULT_TAXONOMY).expect("the shipped taxonomy is valid")
    }

    pub fn parse(source: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: File = toml::from_str(source)?;
        for (family_id, family) in &file.families {
            if !file.industries.contains_key(&family.industry) {
                return Err(TaxonomyError::UnknownIndustry {
                    family: family_id.clone(),
                    industry: family.industry.clone(),
                });
            }
        }
        let mut types = Vec::with_capacity(file.types.len());
        for (id, entry) in file.types {
            let label = Label::parse(&id).map_err(|_| TaxonomyError::BadId(id.clone()))?;
            let family =
                file.families
                    .get(&entry.family)
                    .ok_or_else(|| TaxonomyError::UnknownFamily {
                        id: id.clone(),
                        family: entry.family.clone(),
                    })?;
            let template = template_of(&id, &entry)?;
            check_extract(&id, &entry.extract)?;
            types.push(DocumentType {
                id: label,
                industry: family.industry.clone(),
                family: entry.family,
                name: entry.name,
                description: entry.description,
                hints: entry.hints,
                template,
                extract: entry.extract,
            });
        }
        if types.is_empty() {
            return Err(TaxonomyError::Empty);
        }
        Ok(Taxonomy {
            version: file.version,
            industries: file.industries,
            families: file.families,
            types,
            hash: hex::encode(Sha256::digest(source.as_bytes())),
        })
    }

    /// The fields declared for type `id` (none for an unknown type).
    pub fn fields_of(&self, id: &str) -> &[FieldSpec] {
        self.get(id).map_or(&[], |t| t.extract.as_slice())
    }

    pub fn get(&self, id: &str) -> Option<&DocumentType> {
        self.types.iter().find(|t| t.id.as_str() == id)
    }

    pub fn labels(&self) -> Vec<Label> {
        self.types.iter().map(|t| t.id.clone()).collect()
    }

    /// Industry, family and type of `id`, each with the summed confidence
    /// of the types under it, so an uncertain leaf can still come with a
    /// confident parent.
    pub fn label_path(&self, id: &str, confidences: &BTreeMap<String, f64>) -> Vec<PathLevel> {
        let Some(leaf) = self.get(id) else {
            return Vec::new();
        };
        let mass = |matches: &dyn Fn(&DocumentType) -> bool| -> f64 {
            self.types
                .iter()
                .filter(|t| matches(t))
                .map(|t| confidences.get(t.id.as_str()).copied().unwrap_or(0.0))
                .sum()
        };
        vec![
            PathLevel {
                level: "industry",
                id: leaf.industry.clone(),
                confidence: mass(&|t| t.industry == leaf.industry),
            },
            PathLevel {
                level: "family",
                id: leaf.family.clone(),
                confidence: mass(&|t| t.family == leaf.family),
            },
            PathLevel {
                level: "type",
                id: id.to_owned(),
                confidence: confidences.get(id).copied().unwrap_or(0.0),
            },
        ]
    }
}

fn template_of(id: &str, entry: &TypeEntry) -> Result<Option<Template>, TaxonomyError> {
    if entry.titles.is_empty() {
        return Ok(None);
    }
    let fields = entry
        .fields
        .iter()
        .map(|raw| {
            let (labels, kind) = raw
                .rsplit_once('=')
                .ok_or_else(|| TaxonomyError::BadField {
                    id: id.to_owned(),
                    field: raw.clone(),
                })?;
            let kind = ValueKind::parse(kind.trim()).ok_or_else(|| TaxonomyError::BadField {
                id: id.to_owned(),
                field: raw.clone(),
            })?;
            Ok(Field {
                label: Multilingual::parse(labels),
                kind,
            })
        })
        .collect::<Result<Vec<_>, TaxonomyError>>()?;
    let all = |list: &[String]| list.iter().map(|s| Multilingual::parse(s)).collect();
    Ok(Some(Template {
        titles: all(&entry.titles),
        parties: entry.parties.clone(),
        fields,
        columns: all(&entry.columns),
        rows: all(&entry.rows),
        sentences: all(&entry.sentences),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_taxonomy_covers_many_industries_and_the_original_labels() {
        let taxonomy = Taxonomy::default_taxonomy();
        assert!(taxonomy.types.len() >= 30, "{}", taxonomy.types.len());
        assert!(taxonomy.industries.len() >= 6);
        for original in crate::synth::LABELS {
            assert!(taxonomy.get(original).is_some(), "{original}");
        }
        for t in &taxonomy.types {
            let template = t
                .template
                .as_ref()
                .unwrap_or_else(|| panic!("{}", t.id.as_str()));
            assert!(!template.fields.is_empty(), "{}", t.id.as_str());
        }
    }

    #[test]
    fn label_paths_sum_confidence_up_the_tree() {
        let taxonomy = Taxonomy::default_taxonomy();
        let confidences: BTreeMap<String, f64> = [
            ("invoice".to_owned(), 0.45),
            ("credit_note".to_owned(), 0.40),
            ("purchase_order".to_owned(), 0.10),
            ("contract".to_owned(), 0.05),
        ]
        .into();
        let path = taxonomy.label_path("invoice", &confidences);
        assert_eq!(path[0].id, "accounting");
        assert!((path[0].confidence - 0.95).abs() < 1e-9);
        assert_eq!(path[1].id, "billing");
        assert!((path[1].confidence - 0.85).abs() < 1e-9);
        assert!((path[2].confidence - 0.45).abs() < 1e-9);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let missing_family = "version = \"x\"\n[types.a]\nfamily = \"nope\"\nname = \"A\"\n";
        assert!(matches!(
            Taxonomy::parse(missing_family),
            Err(TaxonomyError::UnknownFamily { .. })
        ));
        let bad_id = "version = \"x\"\n[industries.i]\nname = \"I\"\n[families.f]\nindustry = \"i\"\nname = \"F\"\n[types.Bad-Id]\nfamily = \"f\"\nname = \"B\"\n";
        assert!(matches!(
            Taxonomy::parse(bad_id),
            Err(TaxonomyError::BadId(_))
        ));
        let bad_field = "version = \"x\"\n[industries.i]\nname = \"I\"\n[families.f]\nindustry = \"i\"\nname = \"F\"\n[types.a]\nfamily = \"f\"\nname = \"A\"\ntitles = [\"A\"]\nfields = [\"Total = colour\"]\n";
        assert!(matches!(
            Taxonomy::parse(bad_field),
            Err(TaxonomyError::BadField { .. })
        ));
    }
}
