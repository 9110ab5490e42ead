//! [`Outgoing`]: one message of the outbox as the panel shows it. It sits below the
//! connection, which holds a list of them; sending and confirming them is `outbox`.

use crate::session::Pending;

/// A message the visitor typed that the server has not confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub pending: Pending,
    /// Why the server refused it, when it did; it is then not retried.
    pub refused: Option<String>,
}

impl Outgoing {
    pub(super) fn new(pending: Pending) -> Self {
        Self {
            pending,
            refused: None,
        }
    }
}
