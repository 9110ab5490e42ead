//! A persistent visitor's sign-in as data: the verified [`Identity`] the connection keeps in
//! memory, why the page is asked for an identity token, when to ask for a fresh one, and how
//! the server's refusal of one reads. The connection's side (trading, refreshing, expiring)
//! is `identity`; this module sits below the connection, which holds an [`Identity`].

use std::time::Duration;

use palaver_protocol::ErrorBody;
use uuid::Uuid;

/// How long the page's identity provider has to answer before the visitor is told that the
/// sign-in ran out.
pub(super) const IDENTITY_GRACE: Duration = Duration::from_secs(3);
/// The shortest wait before asking for a fresh identity, so that a browser clock far from the
/// server's cannot make the widget ask again and again.
const MIN_REFRESH: Duration = Duration::from_secs(10);
/// Refresh this long before the bearer token expires, when its life allows.
const REFRESH_LEAD_MS: f64 = 60_000.0;

/// Why the widget asks the page for an identity token (`identityNeeded`'s `reason`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Need {
    /// None was given yet (or the visitor was reset).
    Missing,
    /// The bearer token expires soon.
    Refresh,
    /// The server no longer takes the bearer token.
    Expired,
}

impl Need {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Refresh => "refresh",
            Self::Expired => "expired",
        }
    }
}

/// The verified visitor, as the connection keeps it (in memory only).
#[derive(Debug, Default)]
pub(super) struct Identity {
    /// The latest identity token from the page, until the server has traded it.
    pub(super) pending: Option<String>,
    /// The page was asked for an identity token and has not answered yet.
    pub(super) asked: bool,
    /// The server said the bearer token no longer works.
    pub(super) expired: bool,
    /// Why the page's provider failed, kept for the sign-in while the channel's mode is not
    /// known yet.
    pub(super) failure: Option<String>,
    /// The contact whom what is in memory belongs to.
    pub(super) contact: Option<Uuid>,
    /// The conversation whose messages are on screen.
    pub(super) conversation: Option<Uuid>,
    /// Conversations that a newer one replaced: late answers about them are dropped.
    pub(super) replaced: Vec<Uuid>,
    /// Whether the stored outbox was read; it is, once the contact is known to be its own.
    pub(super) outbox_loaded: bool,
}

impl Identity {
    pub(super) fn new(token: Option<String>) -> Self {
        Self {
            pending: token,
            ..Self::default()
        }
    }

    /// Forgets the person (a reset, or another person signing in); an identity token that
    /// waits to be traded stays, since it may be whom the page signs in next.
    pub(super) fn forget_visitor(&mut self) {
        self.expired = false;
        self.contact = None;
        self.conversation = None;
        self.replaced.clear();
        self.outbox_loaded = false;
    }

    /// Drops the identity token too, and whatever was under way for it (`Palaver.reset()`).
    pub(super) fn sign_out(&mut self) {
        self.forget_visitor();
        self.pending = None;
        self.asked = false;
        self.failure = None;
    }
}

/// When to ask the page for a fresh identity token, from now: a minute before the bearer
/// token expires, or halfway through its remaining life when that is later, and never sooner
/// than [`MIN_REFRESH`].
pub(super) fn refresh_delay(now_ms: f64, expires_at_ms: f64) -> Duration {
    let remaining = (expires_at_ms - now_ms).max(0.0);
    let at = (remaining - REFRESH_LEAD_MS).max(remaining / 2.0);
    Duration::from_millis(at as u64).max(MIN_REFRESH)
}

/// The server's refusal as one text: its sentence, then what it said of each claim.
pub(super) fn refusal_text(body: ErrorBody) -> String {
    let mut text = body.message;
    for problem in body.fields.values() {
        text.push(' ');
        text.push_str(problem);
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use palaver_protocol::ErrorCode;

    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    const MINUTE: f64 = 60_000.0;

    #[wasm_bindgen_test(unsupported = test)]
    fn a_long_sign_in_is_refreshed_a_minute_before_it_expires() {
        assert_eq!(
            refresh_delay(0.0, 10.0 * MINUTE),
            Duration::from_secs(9 * 60)
        );
        assert_eq!(
            refresh_delay(5.0 * MINUTE, 65.0 * MINUTE),
            Duration::from_secs(59 * 60)
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_short_sign_in_is_refreshed_halfway_through_its_life() {
        assert_eq!(refresh_delay(0.0, 90_000.0), Duration::from_secs(45));
        assert_eq!(refresh_delay(0.0, 2.0 * MINUTE), Duration::from_secs(60));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_refused_claim_reads_as_the_servers_sentence_then_what_is_wrong_with_each_claim() {
        let body = ErrorBody {
            error: ErrorCode::Validation,
            message: "Some of the identity token's claims cannot be used.".into(),
            fields: BTreeMap::from([(
                "email".to_owned(),
                "That email address is not valid.".to_owned(),
            )]),
            end_reason: None,
        };
        assert_eq!(
            refusal_text(body),
            "Some of the identity token's claims cannot be used. \
             That email address is not valid."
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_sign_in_that_looks_expired_is_refreshed_after_a_floor_not_at_once() {
        assert_eq!(refresh_delay(0.0, 5_000.0), MIN_REFRESH);
        assert_eq!(refresh_delay(10.0 * MINUTE, 0.0), MIN_REFRESH);
    }
}
