//! Persistent mode: a visitor whom the host site signs in, and their one open conversation.
//!
//! The site's identity token (a JWT, from `data-identity-token`, `Palaver.identify` or the
//! page's identity provider) is traded for a bearer token that lives in memory only and lasts
//! as long as the JWT. Shortly before it runs out the widget asks the page for a fresh one
//! (the `identityNeeded` event); a visitor whose sign-in ran out keeps what they typed in the
//! outbox until one comes.
//!
//! With that token the API and the event stream always speak of the contact's open
//! conversation. When an agent ends it the transcript stays on screen, marked closed, and the
//! visitor's next message starts a fresh conversation, which replaces it on screen.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::{EndReason, ErrorBody, ErrorCode, Identified, Session, SessionState};
use uuid::Uuid;

use super::{ChatConnection, LinkState, Outgoing, Phase, backoff};
use crate::api::ApiFailure;

/// How long the page's identity provider has to answer before the visitor is told that the
/// sign-in ran out.
const IDENTITY_GRACE: Duration = Duration::from_secs(3);
/// The shortest wait before asking for a fresh identity, so that a browser clock far from the
/// server's cannot make the widget ask again and again.
const MIN_REFRESH: Duration = Duration::from_secs(10);
/// Refresh this long before the bearer token expires, when its life allows.
const REFRESH_LEAD_MS: f64 = 60_000.0;
/// Browsers run a timer at once when asked for more than 2^31 - 1 ms (about 24.8 days), so
/// long waits sleep in slices.
const LONGEST_TIMER_MS: f64 = 86_400_000.0;

/// Why the widget asks the page for an identity token (`identityNeeded`'s `reason`).
#[derive(Debug, Clone, Copy)]
enum Need {
    /// None was given yet (or the visitor was reset).
    Missing,
    /// The bearer token expires soon.
    Refresh,
    /// The server no longer takes the bearer token.
    Expired,
}

impl Need {
    fn as_str(self) -> &'static str {
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
    pending: Option<String>,
    /// Bumped with every identity token and every reset, so that answers and timers that
    /// belong to an older one are dropped.
    seq: u32,
    /// The page was asked for an identity token and has not answered yet.
    asked: bool,
    /// The server said the bearer token no longer works.
    expired: bool,
    /// The contact whom what is in memory belongs to.
    contact: Option<Uuid>,
    /// The conversation whose messages are on screen.
    pub(super) conversation: Option<Uuid>,
    /// Conversations that a newer one replaced: late answers about them are dropped.
    replaced: Vec<Uuid>,
    /// Whether the stored outbox was read; it is, once the contact is known to be its own.
    outbox_loaded: bool,
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
        self.seq = self.seq.wrapping_add(1);
    }
}

/// When to ask the page for a fresh identity token, from now: a minute before the bearer
/// token expires, or halfway through its remaining life when that is later, and never sooner
/// than [`MIN_REFRESH`].
fn refresh_delay(now_ms: f64, expires_at_ms: f64) -> Duration {
    let remaining = (expires_at_ms - now_ms).max(0.0);
    let at = (remaining - REFRESH_LEAD_MS).max(remaining / 2.0);
    Duration::from_millis(at as u64).max(MIN_REFRESH)
}

/// Sleeps `ms` milliseconds, however long.
async fn sleep_ms(mut ms: f64) {
    while ms > 0.0 {
        let slice = ms.min(LONGEST_TIMER_MS);
        gloo_timers::future::sleep(Duration::from_millis(slice as u64)).await;
        ms -= slice;
    }
}

/// The server's refusal as one text: its sentence, then what it said of each claim.
fn refusal_text(body: ErrorBody) -> String {
    let mut text = body.message;
    for problem in body.fields.values() {
        text.push(' ');
        text.push_str(problem);
    }
    text
}

impl ChatConnection {
    fn identity_seq(&self) -> u32 {
        self.inner.with_value(|inner| inner.identity.seq)
    }

    /// A persistent channel without a live session: trade the identity token the page gave,
    /// or ask the page for one and show that the visitor must sign in.
    pub(super) fn start_persistent(&self) {
        let (pending, seq) = self
            .inner
            .with_value(|inner| (inner.identity.pending.is_some(), inner.identity.seq));
        if pending {
            self.phase.set(Phase::Loading);
            spawn_local(self.sign_in(seq));
        } else {
            self.phase.set(Phase::SignIn);
            self.need_identity(Need::Missing);
        }
    }

    /// `Palaver.identify(token)`, or the page's identity provider answering.
    pub fn identify(&self, token: String) {
        let seq = self
            .inner
            .try_update_value(|inner| {
                let identity = &mut inner.identity;
                identity.pending = Some(token);
                identity.asked = false;
                identity.seq = identity.seq.wrapping_add(1);
                identity.seq
            })
            .unwrap_or_default();
        if self.is_persistent() {
            if self.phase.get_untracked() != Phase::Chat {
                self.phase.set(Phase::Loading);
            }
            spawn_local(self.sign_in(seq));
        } else if self.channel.with_untracked(Option::is_some) {
            leptos::logging::warn!(
                "palaver: this channel is in live mode, where visitors give their details; \
                 the identity token is ignored"
            );
        }
        // Otherwise the channel's mode is not known yet: the start takes the token.
    }

    /// The page's identity provider failed (`reason` is its error, or empty).
    pub fn identify_failed(&self, reason: String) {
        let (signing_in, expired) = self
            .inner
            .with_value(|inner| (inner.identity.pending.is_some(), inner.identity.expired));
        // The next visitor action may ask again.
        self.inner
            .update_value(|inner| inner.identity.asked = false);
        let reason = match reason.trim() {
            "" => self.texts().identity_provider_failed.to_owned(),
            reason => reason.to_owned(),
        };
        leptos::logging::warn!("palaver: the page's identity provider failed: {reason}");
        if self.phase.get_untracked() == Phase::Chat {
            // Still signed in until the server says otherwise.
            if expired {
                self.sign_in_expired.set(true);
            }
        } else if !signing_in {
            self.identity_error.set(Some(reason));
            if self.is_persistent() {
                self.phase.set(Phase::SignIn);
            }
        }
    }

    /// Trades identity token number `seq` for a bearer token, retrying while the server is
    /// unreachable; a newer identity token or a reset ends it.
    async fn sign_in(self, seq: u32) {
        let channel_id = self.inner.with_value(|inner| inner.channel_id.clone());
        let mut attempt = 0;
        loop {
            let Some(token) = self.inner.with_value(|inner| {
                (inner.identity.seq == seq)
                    .then(|| inner.identity.pending.clone())
                    .flatten()
            }) else {
                return;
            };
            let result = self.api().identify(&channel_id, token).await;
            if self.identity_seq() != seq {
                return;
            }
            match result {
                Ok(identified) => return self.signed_in(identified, seq),
                Err(ApiFailure::Refused { body, .. }) => return self.identity_refused(body, seq),
                Err(ApiFailure::Unreachable) => {
                    if self.phase.get_untracked() == Phase::Chat {
                        self.link.set(LinkState::Offline);
                    }
                    gloo_timers::future::sleep(backoff(attempt)).await;
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    fn signed_in(&self, identified: Identified, seq: u32) {
        let stored = self.stored();
        let contact = identified.contact.id;
        let known = self
            .inner
            .with_value(|inner| inner.identity.contact)
            .or_else(|| stored.contact());
        if known != Some(contact) {
            // Another person on this browser, or the first one here: nothing of whoever came
            // before may show, in the panel or in storage.
            self.forget_visitor();
            stored.save_contact(contact);
        }
        let first = self
            .inner
            .try_update_value(|inner| {
                inner.token = Some(identified.token);
                let identity = &mut inner.identity;
                identity.contact = Some(contact);
                identity.pending = None;
                identity.asked = false;
                identity.expired = false;
                !std::mem::replace(&mut identity.outbox_loaded, true)
            })
            .unwrap_or(false);
        if first {
            // Typed before a reload, now known to be this contact's.
            let saved = stored.outbox();
            self.outbox.update(|outbox| {
                for pending in saved {
                    if !outbox
                        .iter()
                        .any(|held| held.pending.client_msg_id == pending.client_msg_id)
                    {
                        outbox.push(Outgoing {
                            pending,
                            refused: None,
                        });
                    }
                }
            });
        }
        self.identity_error.set(None);
        self.sign_in_expired.set(false);
        self.schedule_refresh(seq, identified.expires_at.timestamp_millis() as f64);
        match &identified.session {
            Some(session) => {
                let shown = self.inner.with_value(|inner| inner.identity.conversation);
                if self.show_conversation(session.id) {
                    if shown != Some(session.id) {
                        self.inner
                            .update_value(|inner| inner.history_loaded = false);
                    }
                    self.conversation_closed.set(false);
                }
            }
            None => {
                self.conversation_gone(None);
                self.inner.update_value(|inner| inner.history_loaded = true);
            }
        }
        self.phase.set(Phase::Chat);
        let running = self.inner.with_value(|inner| inner.kick.is_some());
        if !running {
            self.connect();
        } else if self.link.get_untracked() == LinkState::Online {
            spawn_local(self.flush());
        } else {
            self.kick();
        }
    }

    fn identity_refused(&self, body: ErrorBody, seq: u32) {
        self.inner
            .update_value(|inner| inner.identity.pending = None);
        let in_chat = self.phase.get_untracked() == Phase::Chat;
        if body.error == ErrorCode::IdentityExpired {
            if in_chat {
                // A stale token in place of a fresh one: the bearer token works until the
                // server says otherwise, and the next need asks again.
                self.inner
                    .update_value(|inner| inner.identity.asked = false);
                if self.inner.with_value(|inner| inner.identity.expired) {
                    self.sign_in_expired.set(true);
                }
                return;
            }
            // The page may well have a provider that answers at once with a fresh one.
            self.need_identity(Need::Expired);
            let chat = *self;
            spawn_local(async move {
                gloo_timers::future::sleep(IDENTITY_GRACE).await;
                if chat.identity_seq() == seq {
                    chat.identity_error.set(Some(body.message));
                    chat.phase.set(Phase::SignIn);
                }
            });
            return;
        }
        // The widget no longer knows who this is: nothing of the conversation may show, but
        // what the visitor typed stays for when the same person signs in again.
        let message = refusal_text(body);
        leptos::logging::warn!("palaver: the identity token was refused: {message}");
        self.stop_connection();
        self.identity_error.set(Some(message));
        self.phase.set(Phase::SignIn);
    }

    /// Asks the page for an identity token, once until one comes or the page says it has
    /// none.
    fn need_identity(&self, need: Need) {
        let ask = self
            .inner
            .try_update_value(|inner| !std::mem::replace(&mut inner.identity.asked, true))
            .unwrap_or(false);
        if ask {
            self.emit(
                "identityNeeded",
                &serde_json::json!({ "reason": need.as_str() }),
            );
        }
    }

    /// Whether sends must wait for a fresh identity (asking the page for one when so).
    pub(super) fn waits_for_identity(&self) -> bool {
        let expired = self.inner.with_value(|inner| inner.identity.expired);
        if expired {
            self.need_identity(Need::Expired);
        }
        expired
    }

    /// The server refused `token`. When it is still the one in use, the sign-in has run out:
    /// ask the page for a fresh identity and tell the visitor if none comes soon. Returns
    /// `false` when a newer token has replaced it meanwhile, so the caller may try again.
    pub(super) fn token_expired(&self, token: &str) -> bool {
        if self.token().as_deref() != Some(token) {
            return false;
        }
        let already = self
            .inner
            .try_update_value(|inner| std::mem::replace(&mut inner.identity.expired, true))
            .unwrap_or(true);
        if !already {
            self.need_identity(Need::Expired);
            let seq = self.identity_seq();
            let chat = *self;
            spawn_local(async move {
                gloo_timers::future::sleep(IDENTITY_GRACE).await;
                let still = chat
                    .inner
                    .with_value(|inner| inner.identity.seq == seq && inner.identity.expired);
                if still {
                    chat.sign_in_expired.set(true);
                }
            });
        }
        true
    }

    /// A refused call of the visitor API, in persistent mode.
    pub(super) fn persistent_failure(&self, token: &str, failure: &ApiFailure) {
        match failure {
            ApiFailure::Refused { status: 401, .. } => {
                self.token_expired(token);
            }
            ApiFailure::Refused { body, .. } if body.error == ErrorCode::NoConversation => {
                self.conversation_gone(None)
            }
            _ => {}
        }
    }

    /// Asks the page for a fresh identity before the bearer token runs out, then, at its
    /// expiry, lets the server say whether it still works: the browser's clock may not agree
    /// with the server's.
    fn schedule_refresh(&self, seq: u32, expires_at_ms: f64) {
        let chat = *self;
        spawn_local(async move {
            let delay = refresh_delay(js_sys::Date::now(), expires_at_ms);
            sleep_ms(delay.as_millis() as f64).await;
            if chat.identity_seq() != seq {
                return;
            }
            chat.need_identity(Need::Refresh);
            // Operating hours may have begun or ended since the page loaded.
            let channel_id = chat.inner.with_value(|inner| inner.channel_id.clone());
            if let Ok(info) = chat.api().channel(&channel_id).await {
                chat.channel.set(Some(info));
            }
            sleep_ms(expires_at_ms - js_sys::Date::now() + 1_000.0).await;
            if chat.identity_seq() != seq {
                return;
            }
            if let Some(token) = chat.token()
                && let Err(failure) = chat.api().session(&token).await
                && chat.identity_seq() == seq
            {
                chat.persistent_failure(&token, &failure);
            }
        });
    }

    /// While agents are away, asks for the channel's settings again when they are due back,
    /// so the away notice leaves on time.
    pub(super) async fn watch_hours(self) {
        loop {
            let back = self.channel.with_untracked(|channel| {
                channel
                    .as_ref()
                    .filter(|channel| !channel.open)
                    .and_then(|channel| channel.next_open_at)
            });
            let Some(back) = back else {
                return;
            };
            // At least a minute apart, whatever the clocks say.
            let wait =
                (back.timestamp_millis() as f64 - js_sys::Date::now() + 1_000.0).max(60_000.0);
            sleep_ms(wait).await;
            let channel_id = self.inner.with_value(|inner| inner.channel_id.clone());
            if let Ok(info) = self.api().channel(&channel_id).await {
                self.channel.set(Some(info));
            }
        }
    }

    /// Whether a message of conversation `id` belongs on screen: in live mode every one; in
    /// persistent mode those of the conversation shown, or of a newer one, which replaces it.
    pub(super) fn on_screen(&self, id: Uuid) -> bool {
        !self.is_persistent() || self.show_conversation(id)
    }

    /// Makes conversation `id` the one on screen. Another one than shown replaces it: its
    /// messages leave the screen, while the outbox stays. Returns `false` for a conversation
    /// that was itself replaced.
    fn show_conversation(&self, id: Uuid) -> bool {
        let (shown, replaced) = self.inner.with_value(|inner| {
            (
                inner.identity.conversation,
                inner.identity.replaced.contains(&id),
            )
        });
        if replaced {
            return false;
        }
        if shown == Some(id) {
            return true;
        }
        self.inner.update_value(|inner| {
            if let Some(old) = shown {
                inner.identity.replaced.push(old);
            }
            inner.identity.conversation = Some(id);
        });
        self.messages.set(Default::default());
        self.has_older.set(false);
        self.agent_typing.set(None);
        self.conversation_closed.set(false);
        // What the page said the chat is about goes with the conversation it now shows.
        let (token, regarding) = self
            .inner
            .with_value(|inner| (inner.token.clone(), inner.regarding.clone()));
        if let (Some(token), Some(regarding)) = (token, regarding) {
            let api = self.api();
            spawn_local(async move {
                if let Err(failure) = api.set_regarding(&token, Some(regarding)).await {
                    leptos::logging::warn!("palaver: Regarding was not saved: {failure:?}");
                }
            });
        }
        true
    }

    /// The conversation as the stream or the sign-in reports it: `None` when the contact has
    /// no open one.
    pub(super) fn follow(&self, session: Option<&Session>) {
        match session {
            Some(session) => {
                if !self.show_conversation(session.id) {
                    return;
                }
                if session.state == SessionState::Ended {
                    self.conversation_gone(session.end_reason);
                } else {
                    self.conversation_closed.set(false);
                }
            }
            None => self.conversation_gone(None),
        }
    }

    /// The conversation on screen is over; it stays on screen, marked closed, until the
    /// visitor's next message starts another.
    pub(super) fn conversation_gone(&self, reason: Option<EndReason>) {
        let shown = self
            .inner
            .with_value(|inner| inner.identity.conversation.is_some());
        if !shown || self.conversation_closed.get_untracked() {
            return;
        }
        self.conversation_closed.set(true);
        self.agent_typing.set(None);
        // Its earlier pages are no longer the visitor's to read.
        self.has_older.set(false);
        self.emit("sessionEnded", &serde_json::json!({ "reason": reason }));
    }
}

#[cfg(test)]
mod tests {
    use gloo_storage::{LocalStorage, Storage};
    use serde_json::{Value, json};
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::{
        WidgetConfig,
        test_support::{Mounted, SERVER, eventually, fake_server},
    };

    const MINUTE: f64 = 60_000.0;

    fn channel_info(id: &str, open: bool) -> Value {
        json!({
            "id": id,
            "name": "Members",
            "mode": "persistent",
            "require_email": false,
            "open": open,
            "next_open_at": if open { Value::Null } else { json!("2099-01-05T09:00:00Z") },
        })
    }

    fn identified(contact: Uuid, session: Value) -> Value {
        identified_with("pv_bearer", contact, session)
    }

    fn identified_with(token: &str, contact: Uuid, session: Value) -> Value {
        json!({
            "token": token,
            "expires_at": "2099-01-01T00:00:00Z",
            "contact": {
                "id": contact,
                "name": "Alice Martin",
                "phone": null,
                "email": null,
                "user_id": "alice",
            },
            "session": session,
        })
    }

    fn session(id: Uuid, contact: Uuid, channel: &str) -> Value {
        json!({
            "id": id,
            "contact_id": contact,
            "channel": channel,
            "mode": "persistent",
            "state": "active",
            "started_at": "2098-12-01T10:00:00Z",
            "ends_at": null,
            "ended_at": null,
            "end_reason": null,
            "regarding": null,
            "agent": null,
            "last_seq": 4,
            "queue": null,
        })
    }

    /// A persistent channel `id` on the fake server, whose identify answers `status` and
    /// `body`.
    fn members_channel(id: &str, open: bool, status: u16, body: Value) {
        fake_server(&[
            (
                &format!("GET /api/v1/channels/{id}"),
                200,
                channel_info(id, open),
            ),
            (
                &format!("POST /api/v1/channels/{id}/identify"),
                status,
                body,
            ),
        ]);
    }

    fn config(channel: &str, identity_token: Option<&str>) -> WidgetConfig {
        WidgetConfig {
            identity_token: identity_token.map(str::to_owned),
            ..WidgetConfig::new(channel, SERVER)
        }
    }

    fn stored(key: &str) -> Option<String> {
        LocalStorage::raw().get_item(key).ok().flatten()
    }

    #[wasm_bindgen_test]
    async fn a_persistent_channel_without_an_identity_asks_the_page_and_shows_sign_in_needed() {
        members_channel("t-no-identity", true, 500, json!({}));
        let widget = Mounted::app(config("t-no-identity", None));
        widget.find("launcher").expect("a launcher").click();

        let notice = widget.wait_for("sign-in-needed").await;
        assert_eq!(
            notice.text_content().as_deref(),
            Some("Sign in to chat with us.")
        );
        assert!(
            widget.find("prechat-form").is_none(),
            "never the details form"
        );
        assert!(widget.find("composer-input").is_none());
        assert!(widget.find("end-chat").is_none());
        let asked = widget.events.borrow().clone();
        assert!(
            asked.contains(&("identityNeeded".into(), r#"{"reason":"missing"}"#.into())),
            "{asked:?}"
        );
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn a_refused_identity_token_shows_the_servers_reason_after_the_lead_in() {
        members_channel(
            "t-refused",
            true,
            401,
            json!({
                "error": "identity_invalid",
                "message": "The identity token's signature does not match the channel's key.",
            }),
        );
        let widget = Mounted::app(config("t-refused", Some("a.forged.token")));

        let error = widget.wait_for("identity-error").await;
        assert_eq!(
            error.text_content().as_deref(),
            Some(
                "We couldn't confirm who you are. \
                 The identity token's signature does not match the channel's key."
            )
        );
        assert!(widget.find("sign-in-needed").is_none());
        assert!(widget.find("prechat-form").is_none());
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn a_signed_in_visitor_without_a_conversation_can_write_and_cannot_end_it() {
        members_channel(
            "t-no-conversation",
            false,
            200,
            identified(Uuid::new_v4(), Value::Null),
        );
        let widget = Mounted::app(config("t-no-conversation", Some("a.valid.token")));

        widget.wait_for("composer-input").await;
        assert!(widget.find("send").is_some());
        assert!(widget.find("welcome").is_some());
        assert!(widget.find("connection").is_some());
        assert_eq!(widget.count("message"), 0);
        assert!(
            widget.find("end-chat").is_none(),
            "only agents end a persistent chat"
        );
        assert!(widget.find("queue-status").is_none());
        assert!(widget.find("conversation-closed").is_none());
        let away = widget
            .find("away-notice")
            .expect("agents are away outside operating hours")
            .text_content()
            .unwrap_or_default();
        assert!(away.starts_with("Our agents are away until "), "{away}");
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn a_signed_in_visitor_has_no_access_token_in_storage() {
        let contact = Uuid::new_v4();
        members_channel(
            "t-token-memory",
            true,
            200,
            identified(contact, Value::Null),
        );
        let widget = Mounted::app(config("t-token-memory", Some("a.valid.token")));

        widget.wait_for("composer-input").await;
        assert_eq!(
            stored("palaver:t-token-memory:contact"),
            Some(format!("\"{contact}\""))
        );
        let storage = LocalStorage::raw();
        for index in 0..storage.length().unwrap_or(0) {
            let key = storage.key(index).ok().flatten().unwrap_or_default();
            let value = storage.get_item(&key).ok().flatten().unwrap_or_default();
            assert!(!value.contains("pv_bearer"), "{key} holds the access token");
        }
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn signing_in_as_another_person_wipes_what_the_browser_kept_of_the_last_one() {
        let storage = LocalStorage::raw();
        let before = Uuid::new_v4();
        storage
            .set_item("palaver:t-switch:contact", &format!("\"{before}\""))
            .expect("storage works");
        storage
            .set_item(
                "palaver:t-switch:outbox",
                r#"[{"client_msg_id":"c1","body":"the last person's words"}]"#,
            )
            .expect("storage works");
        storage
            .set_item("palaver:t-switch:anything", "1")
            .expect("storage works");
        let now = Uuid::new_v4();
        members_channel("t-switch", true, 200, identified(now, Value::Null));
        let widget = Mounted::app(config("t-switch", Some("a.valid.token")));

        widget.wait_for("composer-input").await;
        assert_eq!(
            stored("palaver:t-switch:contact"),
            Some(format!("\"{now}\""))
        );
        assert_eq!(stored("palaver:t-switch:outbox"), None);
        assert_eq!(stored("palaver:t-switch:anything"), None);
        assert_eq!(
            widget.count("message"),
            0,
            "nothing of the last person shows"
        );
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn the_same_person_signing_in_again_gets_their_unsent_messages_back() {
        let contact = Uuid::new_v4();
        let storage = LocalStorage::raw();
        storage
            .set_item("palaver:t-same:contact", &format!("\"{contact}\""))
            .expect("storage works");
        storage
            .set_item(
                "palaver:t-same:outbox",
                r#"[{"client_msg_id":"c1","body":"typed before the reload"}]"#,
            )
            .expect("storage works");
        members_channel("t-same", true, 200, identified(contact, Value::Null));
        let widget = Mounted::app(config("t-same", Some("a.valid.token")));

        let row = widget.wait_for("message").await;
        assert_eq!(row.get_attribute("data-status").as_deref(), Some("pending"));
        assert_eq!(
            widget
                .find("message-body")
                .and_then(|body| body.text_content())
                .as_deref(),
            Some("typed before the reload")
        );
        assert!(stored("palaver:t-same:outbox").is_some(), "kept until sent");
        widget.remove();
        LocalStorage::raw()
            .remove_item("palaver:t-same:outbox")
            .expect("storage works");
    }

    #[wasm_bindgen_test]
    async fn a_conversation_closed_since_the_sign_in_says_so_and_keeps_the_composer() {
        let contact = Uuid::new_v4();
        members_channel(
            "t-closed",
            true,
            200,
            identified(contact, session(Uuid::new_v4(), contact, "t-closed")),
        );
        fake_server(&[(
            "GET /api/v1/session/messages?limit=30",
            404,
            json!({"error": "no_conversation", "message": "You have no open conversation."}),
        )]);
        let widget = Mounted::app(config("t-closed", Some("a.valid.token")));

        let closed = widget.wait_for("conversation-closed").await;
        assert_eq!(
            closed.text_content().as_deref(),
            Some("This conversation was closed. Write below to start a new one.")
        );
        assert!(widget.find("composer-input").is_some());
        assert!(widget.find("welcome").is_none());
        eventually("the page is told the conversation ended", || {
            widget.event_names().contains(&"sessionEnded".to_owned())
        })
        .await;
        widget.remove();
    }

    fn message(session: Uuid, seq: i64, sender: Value, body: &str, client_msg_id: Value) -> Value {
        json!({
            "id": Uuid::new_v4(),
            "session_id": session,
            "seq": seq,
            "client_msg_id": client_msg_id,
            "sender": sender,
            "body": body,
            "created_at": "2098-12-01T10:00:00Z",
        })
    }

    #[wasm_bindgen_test]
    async fn a_message_that_starts_a_fresh_conversation_replaces_the_old_one_on_screen() {
        let (contact, old, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let agent = json!({"kind": "agent", "id": Uuid::new_v4(), "name": "Sam"});
        members_channel(
            "t-fresh",
            true,
            200,
            identified_with("pv-fresh", contact, session(old, contact, "t-fresh")),
        );
        fake_server(&[
            (
                "GET /api/v1/session/messages?limit=30 Bearer pv-fresh",
                200,
                json!({
                    "messages": [
                        message(old, 1, json!({"kind": "visitor"}), "Where is my order?", json!("c0")),
                        message(old, 2, agent, "It shipped today.", Value::Null),
                    ],
                    "has_more": false,
                }),
            ),
            (
                "POST /api/v1/session/messages Bearer pv-fresh",
                201,
                message(
                    fresh,
                    1,
                    json!({"kind": "visitor"}),
                    "Another question",
                    json!("$client_msg_id"),
                ),
            ),
        ]);
        let widget = Mounted::app(config("t-fresh", Some("a.valid.token")));
        eventually("the history shows", || widget.messages().len() == 2).await;

        widget.write("Another question");
        eventually("only the fresh conversation shows", || {
            widget.messages() == [("visitor".to_owned(), "Another question".to_owned())]
        })
        .await;
        let row = widget.find("message").expect("a row");
        assert_eq!(row.get_attribute("data-status").as_deref(), Some("sent"));
        assert_eq!(row.get_attribute("data-seq").as_deref(), Some("1"));
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn an_expired_sign_in_keeps_the_message_asks_for_an_identity_and_says_so() {
        members_channel(
            "t-expired",
            true,
            200,
            identified_with("pv-expired", Uuid::new_v4(), Value::Null),
        );
        fake_server(&[(
            "POST /api/v1/session/messages Bearer pv-expired",
            401,
            json!({"error": "identity_expired", "message": "The identity token has expired."}),
        )]);
        let widget = Mounted::app(config("t-expired", Some("a.valid.token")));
        widget.wait_for("composer-input").await;

        widget.write("Still there?");
        eventually("the page is asked for a fresh identity", || {
            widget
                .events
                .borrow()
                .contains(&("identityNeeded".into(), r#"{"reason":"expired"}"#.into()))
        })
        .await;
        let notice = widget.wait_for("sign-in-expired").await;
        assert!(
            notice
                .text_content()
                .unwrap_or_default()
                .starts_with("Your sign-in has expired."),
        );
        let row = widget.find("message").expect("the message stays");
        assert_eq!(row.get_attribute("data-status").as_deref(), Some("pending"));
        assert!(widget.find("composer-input").is_some());
        assert!(
            stored("palaver:t-expired:outbox").is_some(),
            "kept for a reload"
        );
        widget.remove();
        LocalStorage::raw()
            .remove_item("palaver:t-expired:outbox")
            .expect("storage works");
    }

    #[wasm_bindgen_test]
    async fn an_identity_from_the_page_signs_in_a_visitor_who_had_none() {
        members_channel(
            "t-identify",
            true,
            200,
            identified(Uuid::new_v4(), Value::Null),
        );
        let widget = Mounted::app(config("t-identify", None));
        widget.wait_for("sign-in-needed").await;

        widget.command("identify", &["a.valid.token"]);
        widget.wait_for("composer-input").await;
        assert!(widget.find("sign-in-needed").is_none());
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn an_identity_provider_that_fails_shows_why() {
        members_channel("t-provider-failed", true, 500, json!({}));
        let widget = Mounted::app(config("t-provider-failed", None));
        widget.wait_for("sign-in-needed").await;

        widget.command("identifyFailed", &["The site's sign-in service is down."]);
        let error = widget.wait_for("identity-error").await;
        assert_eq!(
            error.text_content().as_deref(),
            Some("We couldn't confirm who you are. The site's sign-in service is down.")
        );
        widget.remove();
    }

    #[wasm_bindgen_test]
    async fn reset_forgets_a_signed_in_visitor_and_waits_for_a_new_identity() {
        members_channel(
            "t-reset",
            true,
            200,
            identified(Uuid::new_v4(), Value::Null),
        );
        let widget = Mounted::app(config("t-reset", Some("a.valid.token")));
        widget.wait_for("composer-input").await;
        assert!(stored("palaver:t-reset:contact").is_some());

        widget.command("reset", &[]);
        widget.wait_for("sign-in-needed").await;
        assert!(widget.find("composer-input").is_none());
        assert_eq!(stored("palaver:t-reset:contact"), None);
        let names = widget.event_names();
        assert_eq!(
            names
                .iter()
                .filter(|name| *name == "identityNeeded")
                .count(),
            1,
            "asked once, after the reset: {names:?}"
        );
        widget.remove();
    }

    #[wasm_bindgen_test]
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

    #[wasm_bindgen_test]
    fn a_short_sign_in_is_refreshed_halfway_through_its_life() {
        assert_eq!(refresh_delay(0.0, 90_000.0), Duration::from_secs(45));
        assert_eq!(refresh_delay(0.0, 2.0 * MINUTE), Duration::from_secs(60));
    }

    #[wasm_bindgen_test]
    fn a_refused_claim_reads_as_the_servers_sentence_then_what_is_wrong_with_each_claim() {
        let body = ErrorBody {
            error: ErrorCode::Validation,
            message: "Some of the identity token's claims cannot be used.".into(),
            fields: [(
                "email".to_owned(),
                "That email address is not valid.".to_owned(),
            )]
            .into(),
            end_reason: None,
        };
        assert_eq!(
            refusal_text(body),
            "Some of the identity token's claims cannot be used. \
             That email address is not valid."
        );
    }

    #[wasm_bindgen_test]
    fn a_sign_in_that_looks_expired_is_refreshed_after_a_floor_not_at_once() {
        assert_eq!(refresh_delay(0.0, 5_000.0), MIN_REFRESH);
        assert_eq!(refresh_delay(10.0 * MINUTE, 0.0), MIN_REFRESH);
    }
}
