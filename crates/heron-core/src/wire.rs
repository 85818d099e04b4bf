//! Enums whose variants cross the wire (JSON, the database, settings) under
//! fixed names: each name is written once, in [`wire_enum!`], and serves
//! `as_str`, parsing, `ALL`, and — for enums that derive serde — the
//! serialized form and the OpenAPI schema (through serde's `rename`, which
//! utoipa reads). `tests/wire_names.rs` pins every name: a rename fails
//! there, not in a client.

/// Declare an enum with the wire name of each variant:
///
/// ```
/// heron_core::wire_enum! {
///     serde;
///     #[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
///     pub enum Light {
///         /// Go.
///         Green = "green",
///         Red = "red",
///     }
/// }
/// assert_eq!(Light::Red.as_str(), "red");
/// assert_eq!(Light::from_wire("green"), Some(Light::Green));
/// assert_eq!(serde_json::to_string(&Light::Green).unwrap(), "\"green\"");
/// assert_eq!(Light::ALL.len(), 2);
/// ```
///
/// Without the leading `serde;` no serde attribute is written (for enums
/// that are only parsed and printed).
#[macro_export]
macro_rules! wire_enum {
    (
        serde;
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $wire)] $variant ),+
        }
        $crate::wire_enum!(@methods $name { $( $variant = $wire ),+ });
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }
        $crate::wire_enum!(@methods $name { $( $variant = $wire ),+ });
    };
    (@methods $name:ident { $( $variant:ident = $wire:literal ),+ }) => {
        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$( $name::$variant ),+];

            /// The name on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire ),+
                }
            }

            /// The variant of a wire name, exactly as written.
            pub fn from_wire(name: &str) -> Option<$name> {
                match name {
                    $( $wire => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// Every wire name, comma separated (for error messages).
            pub fn wire_names() -> String {
                [$( $wire ),+].join(", ")
            }
        }
    };
}
