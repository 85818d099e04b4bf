//! The default model, shipped in the repository and compiled into the
//! binary: trained on the generated documents of the built-in taxonomy and
//! on real labelled documents users do not have (see `models/README.md`
//! for the command that rebuilds it and `scripts/default-model` for the
//! check that the command gives this model). Shipping it makes first
//! start instant: nothing is trained at start.

use crate::model::{ModelError, TextModel};

/// The model file (compact form, [`TextModel::compact`]).
const DEFAULT_MODEL: &[u8] = include_bytes!("../models/default.htm");

/// The shipped model's id, as `heron train` printed it; a test checks the
/// file still holds it.
pub const DEFAULT_MODEL_ID: &str = "tm-20d841f25803";

/// The shipped default model.
pub fn default_model() -> Result<TextModel, ModelError> {
    TextModel::from_bytes(DEFAULT_MODEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_loads_with_its_recorded_id() {
        let model = default_model().expect("the shipped model");
        assert_eq!(model.id(), DEFAULT_MODEL_ID);
        assert!(model.header().compact);
        let taxonomy = crate::Taxonomy::default_taxonomy();
        assert_eq!(model.labels(), taxonomy.labels().as_slice());
        assert!(DEFAULT_MODEL.len() <= 10 * 1024 * 1024);
    }
}
