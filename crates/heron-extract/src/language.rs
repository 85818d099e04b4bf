//! Language detection of extracted text (whatlang: trigram profiles of 69
//! languages, pure Rust). Codes are ISO 639-3 ("eng", "deu", "fra"...),
//! the names Tesseract's language packs use.

/// Characters looked at; a few thousand are plenty to tell languages apart.
const SAMPLE_CHARS: usize = 6_000;
/// Below this many letters a guess is noise.
const MIN_LETTERS: usize = 40;

/// A detected language.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// ISO 639-3 code.
    pub code: &'static str,
    /// whatlang's confidence, 0..=1.
    pub confidence: f64,
    /// Whether whatlang itself calls the guess reliable.
    pub reliable: bool,
}

/// The language of `text`, when there is enough text to tell.
pub fn detect(text: &str) -> Option<Detected> {
    let sample: String = text.chars().take(SAMPLE_CHARS).collect();
    if sample.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let info = whatlang::detect(&sample)?;
    Some(Detected {
        code: info.lang().code(),
        confidence: info.confidence(),
        reliable: info.is_reliable(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_business_languages() {
        let cases = [
            (
                "Please find attached the invoice for the consulting services delivered in March.",
                "eng",
            ),
            (
                "Anbei erhalten Sie die Rechnung für die im März erbrachten Beratungsleistungen.",
                "deu",
            ),
            (
                "Veuillez trouver ci-joint la facture pour les services de conseil fournis en mars.",
                "fra",
            ),
            (
                "Adjuntamos la factura por los servicios de consultoría prestados en el mes de marzo.",
                "spa",
            ),
            (
                "In allegato la fattura per i servizi di consulenza prestati nel mese di marzo scorso.",
                "ita",
            ),
            (
                "Segue em anexo a fatura referente aos serviços de consultoria prestados em março.",
                "por",
            ),
        ];
        for (text, code) in cases {
            assert_eq!(detect(text).map(|d| d.code), Some(code), "{text}");
        }
        assert_eq!(detect("12/03/2024 1,200.00"), None);
    }
}
