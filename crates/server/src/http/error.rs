//! The one error type of the HTTP boundary. Each variant documents its status; the chat
//! rules' refusals convert into it; unexpected errors are logged with their context and
//! answered with a bare 500, never with details.

use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use palaver_protocol::{EndReason, ErrorBody, ErrorCode};

use crate::chat::error::{ChatError, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON syntax, bad query or path).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials (missing, unknown or forged token; wrong password).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 401: a persistent channel's identity token, or the access it gave, is refused;
    /// `identity_expired` tells the widget to ask its site for a fresh token.
    #[error("{message}")]
    IdentityRefused { code: ErrorCode, message: String },
    /// 403: the caller may not do this (an origin the channel does not allow).
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    /// 404: no such channel, session or contact.
    #[error("{0}")]
    NotFound(&'static str),
    /// 404: a persistent visitor has no open conversation; their next message starts one.
    #[error("There is no open conversation; your next message starts one.")]
    NoConversation,
    /// 409: the request conflicts with the current state (outside operating hours,
    /// a session another agent has joined, a name already taken).
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// 410: the session is over; `end_reason` says why.
    #[error("This chat has ended.")]
    SessionEnded(EndReason),
    /// 413: the body is larger than the server accepts.
    #[error("The request is too large.")]
    PayloadTooLarge,
    /// 415: the body is not declared as JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the body is well-formed but its values are not acceptable.
    #[error("{message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },
    /// 500: anything else; logged, never shown.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            Self::IdentityRefused { code, .. } => (StatusCode::UNAUTHORIZED, *code),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, *code),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            Self::NoConversation => (StatusCode::NOT_FOUND, ErrorCode::NoConversation),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, *code),
            Self::SessionEnded(_) => (StatusCode::GONE, ErrorCode::SessionEnded),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            Self::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            Self::Validation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Validation),
            Self::Unexpected(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }

    /// The body sent to the client (also used in WebSocket `error` frames).
    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        let message = match self {
            Self::Unexpected(_) => "Something went wrong on our side. Please try again.".into(),
            other => other.to_string(),
        };
        ErrorBody {
            error: code,
            message,
            fields: match self {
                Self::Validation { fields, .. } => fields.clone(),
                _ => FieldErrors::new(),
            },
            end_reason: match self {
                Self::SessionEnded(reason) => Some(*reason),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Unexpected(error) = &self {
            tracing::error!(error = ?error, "request failed");
        }
        let (status, _) = self.status_and_code();
        (status, Json(self.body())).into_response()
    }
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        let message = error.to_string();
        match error {
            ChatError::Unauthorized(message) => Self::Unauthorized(message),
            ChatError::IdentityExpired(_) => Self::IdentityRefused {
                code: ErrorCode::IdentityExpired,
                message,
            },
            ChatError::IdentityInvalid(_) => Self::IdentityRefused {
                code: ErrorCode::IdentityInvalid,
                message,
            },
            ChatError::NotFound(message) => Self::NotFound(message),
            ChatError::NoConversation => Self::NoConversation,
            ChatError::IdentityRequired => Self::Conflict {
                code: ErrorCode::IdentityRequired,
                message,
            },
            ChatError::NotPersistent(_) => Self::Conflict {
                code: ErrorCode::NotPersistent,
                message,
            },
            ChatError::VisitorCannotEnd => Self::Forbidden {
                code: ErrorCode::AgentEndsConversation,
                message,
            },
            ChatError::OutsideOperatingHours(_) => Self::Conflict {
                code: ErrorCode::OutsideOperatingHours,
                message,
            },
            ChatError::AlreadyJoined(_) => Self::Conflict {
                code: ErrorCode::AlreadyJoined,
                message,
            },
            ChatError::SessionEnded(reason) => Self::SessionEnded(reason),
            ChatError::Invalid { message, fields } => Self::Validation { message, fields },
            ChatError::Unexpected(error) => Self::Unexpected(error),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(error) => Self::Validation {
                message: format!(
                    "The request body has the wrong shape: {}",
                    error.body_text()
                ),
                fields: FieldErrors::new(),
            },
            JsonRejection::JsonSyntaxError(error) => Self::BadRequest(format!(
                "The request body is not valid JSON: {}",
                error.body_text()
            )),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "Send the body as JSON with `Content-Type: application/json`.".into(),
            ),
            JsonRejection::BytesRejection(error)
                if error.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Self::PayloadTooLarge
            }
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}
