//! [`ChatError`]: why a chat rule refused, in the chat's own words. The HTTP layer turns
//! each variant into a status and an `ErrorCode`; nothing here knows about HTTP.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use palaver_protocol::EndReason;

/// Per-field messages, for a form to show beside each field.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The token is unknown, forged or expired (an agent's sign-in, a live session's token).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A persistent channel's identity token, or the access it gave, has expired: the site
    /// must sign a fresh one.
    #[error("{0}")]
    IdentityExpired(&'static str),
    /// A persistent channel's identity token is refused for any other reason.
    #[error("{0}")]
    IdentityInvalid(String),
    /// No such channel, session or contact.
    #[error("{0}")]
    NotFound(&'static str),
    /// A verified visitor has no open conversation; their next message starts one.
    #[error("There is no open conversation; your next message starts one.")]
    NoConversation,
    /// The channel is for verified visitors, who do not fill in details.
    #[error("This chat is for signed-in visitors; the page signs you in.")]
    IdentityRequired,
    /// Only persistent channels and conversations do this (identify, wait).
    #[error("{0}")]
    NotPersistent(&'static str),
    /// Persistent mode rule 3: only an agent ends a persistent conversation.
    #[error("This conversation stays open for you; only an agent can close it.")]
    VisitorCannotEnd,
    /// Live mode rule 7: no agent answers now; agents are back at the time given.
    #[error("{}", outside_hours_message(*.0))]
    OutsideOperatingHours(Option<DateTime<Utc>>),
    /// Another agent holds the session (named, when known).
    #[error("{0} has already joined this chat.")]
    AlreadyJoined(String),
    /// The session is over, for this reason.
    #[error("This chat has ended.")]
    SessionEnded(EndReason),
    /// The values need fixing; `fields` says which.
    #[error("{message}")]
    Invalid {
        message: String,
        fields: FieldErrors,
    },
    /// Anything else (the store failed); logged, never shown.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ChatError {
    /// Details a visitor typed that need fixing.
    pub fn fields(fields: FieldErrors) -> Self {
        Self::Invalid {
            message: "Some details need fixing.".into(),
            fields,
        }
    }

    /// One field that needs fixing.
    pub fn field(name: &str, message: String) -> Self {
        Self::fields(FieldErrors::from([(name.to_owned(), message)]))
    }
}

fn outside_hours_message(next_open: Option<DateTime<Utc>>) -> String {
    match next_open {
        Some(at) => format!(
            "No agent is available right now. We're back at {} UTC.",
            at.format("%a %-d %b %H:%M")
        ),
        None => "No agent is available right now.".to_owned(),
    }
}

/// Keeps a parsed value, or files its message under the field's name.
pub fn field<T>(fields: &mut FieldErrors, name: &str, parsed: Result<T, String>) -> Option<T> {
    parsed
        .map_err(|message| fields.insert(name.to_owned(), message))
        .ok()
}
