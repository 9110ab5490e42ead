//! [`ApiFailure`]: why a call to the server failed, with the server's [`ErrorCode`] to branch
//! on, so that neither app ever compares an error code as a string.

use palaver_protocol::{ErrorBody, ErrorCode};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// The server answered with an error status and body. A body that was not the server's
    /// own (a proxy's page, a crash) reads as [`ErrorCode::Unknown`] with a sentence naming
    /// the status.
    Refused { status: u16, body: ErrorBody },
    /// The server could not be reached (offline, down, restarting, blocked), or its answer
    /// could not be read.
    Unreachable,
}

impl ApiFailure {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            Self::Unreachable => None,
        }
    }

    /// The server's error code, when it answered.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Refused { body, .. } => Some(body.error),
            Self::Unreachable => None,
        }
    }

    /// Whether the server answered with `code`.
    pub fn is(&self, code: ErrorCode) -> bool {
        self.code() == Some(code)
    }

    /// Whether the credentials no longer work (status 401: missing, unknown, signed out or
    /// expired token, whatever the code).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// The server's words for `field` when it gave some, else its sentence for the whole
    /// request; `None` when it could not be reached. Each app adds its own sentence (and
    /// language) for that case, see [`ApiFailure::describe`].
    pub fn server_says(&self, field: &str) -> Option<&str> {
        match self {
            Self::Refused { body, .. } => Some(
                body.fields
                    .get(field)
                    .map_or(body.message.as_str(), String::as_str),
            ),
            Self::Unreachable => None,
        }
    }

    /// What went wrong, in words for a person: [`ApiFailure::server_says`], or `unreachable`
    /// when the server could not be reached.
    pub fn describe(&self, field: &str, unreachable: &str) -> String {
        self.server_says(field).unwrap_or(unreachable).to_owned()
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use std::collections::BTreeMap;

    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn refused(status: u16, error: ErrorCode, fields: &[(&str, &str)]) -> ApiFailure {
        ApiFailure::Refused {
            status,
            body: ErrorBody {
                error,
                message: "Something is wrong.".into(),
                fields: fields
                    .iter()
                    .map(|(field, text)| ((*field).to_owned(), (*text).to_owned()))
                    .collect::<BTreeMap<_, _>>(),
                end_reason: None,
            },
        }
    }

    #[wasm_bindgen_test]
    fn a_refusal_is_read_by_its_code_and_status_never_by_a_string() {
        let failure = refused(409, ErrorCode::AlreadyJoined, &[]);
        assert!(failure.is(ErrorCode::AlreadyJoined));
        assert!(!failure.is(ErrorCode::NotFound));
        assert_eq!(failure.status(), Some(409));
        assert!(!failure.is_unauthorized());
        assert!(refused(401, ErrorCode::IdentityExpired, &[]).is_unauthorized());
        assert_eq!(ApiFailure::Unreachable.code(), None);
        assert!(!ApiFailure::Unreachable.is_unauthorized());
    }

    #[wasm_bindgen_test]
    fn a_refusal_is_described_by_the_fields_words_then_the_sentence_then_the_apps_own() {
        let failure = refused(422, ErrorCode::Validation, &[("body", "Too long.")]);
        assert_eq!(failure.describe("body", "offline"), "Too long.");
        assert_eq!(failure.describe("name", "offline"), "Something is wrong.");
        assert_eq!(
            ApiFailure::Unreachable.describe("body", "offline"),
            "offline"
        );
        assert_eq!(ApiFailure::Unreachable.server_says("body"), None);
    }
}
