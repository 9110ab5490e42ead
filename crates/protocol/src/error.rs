//! Every error the API answers with: a stable [`ErrorCode`] for programs, a sentence for
//! people, and per-field messages for forms.

use std::{borrow::Cow, collections::BTreeMap};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::EndReason;

/// What went wrong, for programs to branch on; the HTTP status says how bad it is. It travels
/// as its snake_case name (`session_ended`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    serde(rename_all = "snake_case")
)]
pub enum ErrorCode {
    /// 400: the request is malformed (bad JSON syntax, bad query or path).
    BadRequest,
    /// 401: no valid credentials (missing, unknown or forged token; wrong password).
    Unauthorized,
    /// 401: the identity token has expired; the widget asks its site for a fresh one.
    IdentityExpired,
    /// 401: the identity token is refused for any other reason (signature, claims).
    IdentityInvalid,
    /// 403: the page's origin may not use the channel.
    OriginNotAllowed,
    /// 403: a verified visitor tried to end their conversation; only an agent can.
    AgentEndsConversation,
    /// 404: no such channel, session or contact.
    NotFound,
    /// 404: a verified visitor has no open conversation; their next message starts one.
    NoConversation,
    /// 409: the channel is for verified visitors; the page signs them in.
    IdentityRequired,
    /// 409: the channel or session is not persistent (no identity, no waiting).
    NotPersistent,
    /// 409: no agent answers at this hour.
    OutsideOperatingHours,
    /// 409: another agent holds the session.
    AlreadyJoined,
    /// 410: the session is over; `end_reason` says why.
    SessionEnded,
    /// 413: the body is larger than the server accepts.
    PayloadTooLarge,
    /// 415: the body is not declared as JSON.
    UnsupportedMediaType,
    /// 422: the values need fixing; `fields` says which.
    Validation,
    /// 500: something went wrong on the server's side.
    Internal,
    /// A code this build does not know yet (a newer server): read the status and message.
    Unknown,
}

impl ErrorCode {
    /// Every code a server sends.
    const SENT: [Self; 17] = [
        Self::BadRequest,
        Self::Unauthorized,
        Self::IdentityExpired,
        Self::IdentityInvalid,
        Self::OriginNotAllowed,
        Self::AgentEndsConversation,
        Self::NotFound,
        Self::NoConversation,
        Self::IdentityRequired,
        Self::NotPersistent,
        Self::OutsideOperatingHours,
        Self::AlreadyJoined,
        Self::SessionEnded,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Validation,
        Self::Internal,
    ];

    /// The name it travels as.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::IdentityExpired => "identity_expired",
            Self::IdentityInvalid => "identity_invalid",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::AgentEndsConversation => "agent_ends_conversation",
            Self::NotFound => "not_found",
            Self::NoConversation => "no_conversation",
            Self::IdentityRequired => "identity_required",
            Self::NotPersistent => "not_persistent",
            Self::OutsideOperatingHours => "outside_operating_hours",
            Self::AlreadyJoined => "already_joined",
            Self::SessionEnded => "session_ended",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Validation => "validation",
            Self::Internal => "internal",
            Self::Unknown => "unknown",
        }
    }
}

// By hand rather than derived: one lookup by name instead of serde's generated visitor keeps
// the browser apps, which only read codes, smaller.
impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<str>::deserialize(deserializer)?;
        Ok(Self::SENT
            .into_iter()
            .find(|code| code.as_str() == name)
            .unwrap_or(Self::Unknown))
    }
}

/// The body of every error response, and of a WebSocket `error` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable code for programs, e.g. `validation`, `session_ended`.
    pub error: ErrorCode,
    /// A sentence for people.
    pub message: String,
    /// Per-field messages, for a form to show beside each field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Why a session is over, with `session_ended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_without_fields_leaves_them_out() {
        let body = ErrorBody {
            error: ErrorCode::NotFound,
            message: "No such channel.".into(),
            fields: BTreeMap::new(),
            end_reason: None,
        };
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(json["error"], "not_found");
        assert!(json.get("fields").is_none());
        assert!(json.get("end_reason").is_none());
    }

    #[test]
    fn every_code_travels_as_its_snake_case_name_and_reads_back() {
        for code in ErrorCode::SENT {
            let json = serde_json::to_value(code).expect("serializes");
            let name = format!("{code:?}")
                .chars()
                .enumerate()
                .flat_map(|(index, c)| {
                    let lower = c.to_ascii_lowercase();
                    if c.is_uppercase() && index > 0 {
                        vec!['_', lower]
                    } else {
                        vec![lower]
                    }
                })
                .collect::<String>();
            assert_eq!(json, serde_json::Value::String(name));
            assert_eq!(
                serde_json::from_value::<ErrorCode>(json).expect("reads"),
                code
            );
        }
    }

    #[test]
    fn a_code_from_a_newer_server_reads_as_unknown() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":"slow_down","message":"Wait a moment."}"#)
                .expect("parses");
        assert_eq!(body.error, ErrorCode::Unknown);
        assert_eq!(body.message, "Wait a moment.");
    }
}
