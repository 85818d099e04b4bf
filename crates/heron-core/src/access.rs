//! Who may do what: tenants, scopes and roles.
//!
//! A caller (an API key or a signed token) acts for exactly one tenant and
//! holds a set of scopes. Roles are named bundles of scopes, so that an
//! identity provider can say `reviewer` and Heron knows what that allows.
//! Which scope each route needs is the server's policy table.

use std::fmt;
use std::str::FromStr;

/// The tenant of `ALLOWED_API_KEYS`, `HERON_ADMIN_API_KEYS`, the generated
/// key, and every job created before tenants existed.
pub const DEFAULT_TENANT: &str = "default";

/// The audit chain of deployment-wide changes (models, the master key).
/// No tenant can be named so: tenant ids start with a letter or digit.
pub const DEPLOYMENT_TENANT: &str = "_deployment";

crate::wire_enum! {
/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Upload files for classification.
    Classify = "classify",
    /// Read jobs, results and documents.
    Read = "read",
    /// Correct and annotate results.
    Review = "review",
    /// Train and compare models.
    Train = "train",
    /// Keys, audit log, tenant settings, dead letters, webhooks, erasure.
    Admin = "admin",
}
}

impl Scope {
    fn bit(self) -> u64 {
        1 << (self as u64)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a scope or role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {name:?} (expected one of: {expected})")]
pub struct AccessParseError {
    kind: &'static str,
    name: String,
    expected: String,
}

impl FromStr for Scope {
    type Err = AccessParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::from_wire(s.trim()).ok_or_else(|| AccessParseError {
            kind: "scope",
            name: s.to_owned(),
            expected: Scope::wire_names(),
        })
    }
}

/// A set of scopes (one bit each: up to 64 scopes, checked at compile time).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Scopes(u64);

const _: () = assert!(Scope::ALL.len() <= 64, "Scopes holds at most 64 scopes");

impl Scopes {
    pub const NONE: Scopes = Scopes(0);

    /// Every scope.
    pub fn all() -> Scopes {
        Scope::ALL.iter().copied().collect()
    }

    /// What `ALLOWED_API_KEYS` grant, named one by one: a scope added
    /// later is granted to them only by adding it here.
    pub fn environment_key() -> Scopes {
        use Scope::*;
        [Classify, Read, Review, Train].into_iter().collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn union(self, other: Scopes) -> Scopes {
        Scopes(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .iter()
            .copied()
            .filter(move |s| self.contains(*s))
    }

    /// Parse `classify,read` (commas or spaces).
    pub fn parse_list(text: &str) -> Result<Scopes, AccessParseError> {
        text.split([',', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(Scope::from_str)
            .collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

impl fmt::Display for Scopes {
    /// `classify,read`: the form stored and parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

crate::wire_enum! {
/// A named bundle of scopes, as identity providers hand them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Uploads files and reads what came of them.
    Uploader = "uploader",
    /// Reads jobs, results and documents.
    Reader = "reader",
    /// Reads and corrects.
    Reviewer = "reviewer",
    /// Reads, corrects, and trains models.
    Trainer = "trainer",
    /// Everything, including keys, audit and erasure.
    Admin = "admin",
}
}

impl Role {
    /// The scopes a role grants.
    pub fn scopes(self) -> Scopes {
        use Scope::*;
        match self {
            Role::Uploader => [Classify, Read].into_iter().collect(),
            Role::Reader => [Read].into_iter().collect(),
            Role::Reviewer => [Read, Review].into_iter().collect(),
            Role::Trainer => [Read, Review, Train].into_iter().collect(),
            Role::Admin => Scopes::all(),
        }
    }
}

impl FromStr for Role {
    type Err = AccessParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::from_wire(s.trim()).ok_or_else(|| AccessParseError {
            kind: "role",
            name: s.to_owned(),
            expected: Role::wire_names(),
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `id` can name a tenant: 1–64 of `a-z 0-9 _ -`, starting with a
/// letter or digit. Tenant ids appear in storage keys and log lines, so
/// nothing else is allowed.
pub fn valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_text() {
        let scopes = Scopes::parse_list("read, classify").unwrap();
        assert!(scopes.contains(Scope::Read) && scopes.contains(Scope::Classify));
        assert!(!scopes.contains(Scope::Admin));
        assert_eq!(scopes.to_string(), "classify,read");
        assert_eq!(Scopes::parse_list(&scopes.to_string()).unwrap(), scopes);
        assert!(Scopes::parse_list("read,root").is_err());
        assert_eq!(Scopes::parse_list("").unwrap(), Scopes::NONE);
    }

    #[test]
    fn roles_grant_nested_scopes() {
        assert!(!Role::Reader.scopes().contains(Scope::Classify));
        assert!(Role::Uploader.scopes().contains(Scope::Classify));
        assert!(!Role::Reviewer.scopes().contains(Scope::Train));
        assert!(Role::Trainer.scopes().contains(Scope::Review));
        assert_eq!(Role::Admin.scopes(), Scopes::all());
        assert_eq!(
            Scopes::environment_key().to_string(),
            "classify,read,review,train"
        );
        assert_eq!("trainer".parse::<Role>().unwrap(), Role::Trainer);
    }

    #[test]
    fn tenant_ids_are_plain() {
        assert!(valid_tenant_id("acme-bank_2"));
        assert!(!valid_tenant_id(""));
        assert!(!valid_tenant_id("Acme"));
        assert!(!valid_tenant_id("a/b"));
        assert!(!valid_tenant_id("-x"));
        assert!(!valid_tenant_id(&"a".repeat(65)));
    }
}
