//! Persistent mode: a visitor whom the host site signs in.
//!
//! The site's identity token (a JWT, from `data-identity-token`, `Palaver.identify` or the
//! page's identity provider) is traded for a bearer token that lives in memory only and lasts
//! as long as the JWT. Shortly before it runs out the widget asks the page for a fresh one
//! (the `identityNeeded` event); a visitor whose sign-in ran out keeps what they typed in the
//! outbox until one comes.

use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::{ErrorBody, ErrorCode, Identified};

use super::{
    ChatConnection, ChatState, Link, Outgoing,
    epoch::{Epoch, Scope},
    hours::sleep_ms,
    link::backoff,
    sign_in::{IDENTITY_GRACE, Need, refresh_delay, refusal_text},
};
use crate::api::ApiFailure;

impl ChatConnection {
    /// A persistent channel without a live session: trade the identity token the page gave,
    /// or ask the page for one and show that the visitor must sign in.
    pub(super) fn start_persistent(&self) {
        let (pending, failure) = self.inner.with_value(|inner| {
            (
                inner.identity.pending.is_some(),
                inner.identity.failure.clone(),
            )
        });
        if pending {
            self.set.state.set(ChatState::Loading);
            spawn_local(self.sign_in(self.epoch()));
        } else {
            self.set.state.set(ChatState::SignIn { error: failure });
            self.need_identity(Need::Missing);
        }
    }

    /// `Palaver.identify(token)`, or the page's identity provider answering.
    pub fn identify(&self, token: String) {
        self.inner.update_value(|inner| {
            inner.identity.pending = Some(token);
            inner.identity.asked = false;
            inner.epoch.advance(Scope::Identity);
        });
        if self.is_persistent() {
            self.update_state(ChatState::signing_in);
            spawn_local(self.sign_in(self.epoch()));
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
        if self.state.with_untracked(ChatState::in_chat) {
            // Still signed in until the server says otherwise.
            if expired {
                self.update_state(ChatState::sign_in_expired);
            }
        } else if !signing_in {
            if self.is_persistent() {
                self.set.state.set(ChatState::SignIn {
                    error: Some(reason),
                });
            } else {
                self.inner
                    .update_value(|inner| inner.identity.failure = Some(reason));
            }
        }
    }

    /// Trades the identity token of epoch `since` for a bearer token, retrying while the
    /// server is unreachable; a newer identity token or a reset ends it.
    async fn sign_in(self, since: Epoch) {
        let channel_id = self.channel_id();
        let mut attempt = 0;
        loop {
            let Some(token) = self.inner.with_value(|inner| {
                inner
                    .epoch
                    .holds(since, Scope::Identity)
                    .then(|| inner.identity.pending.clone())
                    .flatten()
            }) else {
                return;
            };
            let result = self.api().identify(&channel_id, token).await;
            if !self.still(since, Scope::Identity) {
                return;
            }
            match result {
                Ok(identified) => return self.signed_in(identified),
                Err(ApiFailure::Refused { body, .. }) => return self.identity_refused(body, since),
                Err(ApiFailure::Unreachable) => {
                    if self.state.with_untracked(ChatState::in_chat) {
                        self.set.link.set(Link::Offline);
                    }
                    gloo_timers::future::sleep(backoff(attempt)).await;
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    fn signed_in(&self, identified: Identified) {
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
                identity.failure = None;
                !std::mem::replace(&mut identity.outbox_loaded, true)
            })
            .unwrap_or(false);
        if first {
            // Typed before a reload, now known to be this contact's.
            let saved = stored.outbox();
            self.set.outbox.update(|outbox| {
                for pending in saved {
                    if !outbox
                        .iter()
                        .any(|held| held.pending.client_msg_id == pending.client_msg_id)
                    {
                        outbox.push(Outgoing::new(pending));
                    }
                }
            });
        }
        self.update_state(ChatState::signed_in);
        self.schedule_refresh(
            self.epoch(),
            identified.expires_at.timestamp_millis() as f64,
        );
        self.show_signed_in_conversation(identified.session.as_ref());
        if !self.connecting() {
            self.connect();
        } else if self.link.get_untracked() == Link::Online {
            spawn_local(self.flush());
        } else {
            self.kick();
        }
    }

    fn identity_refused(&self, body: ErrorBody, since: Epoch) {
        self.inner
            .update_value(|inner| inner.identity.pending = None);
        let in_chat = self.state.with_untracked(ChatState::in_chat);
        if body.error == ErrorCode::IdentityExpired {
            if in_chat {
                // A stale token in place of a fresh one: the bearer token works until the
                // server says otherwise, and the next need asks again.
                self.inner
                    .update_value(|inner| inner.identity.asked = false);
                if self.inner.with_value(|inner| inner.identity.expired) {
                    self.update_state(ChatState::sign_in_expired);
                }
                return;
            }
            // The page may well have a provider that answers at once with a fresh one.
            self.need_identity(Need::Expired);
            let chat = *self;
            spawn_local(async move {
                gloo_timers::future::sleep(IDENTITY_GRACE).await;
                if chat.still(since, Scope::Identity) {
                    chat.set.state.set(ChatState::SignIn {
                        error: Some(body.message),
                    });
                }
            });
            return;
        }
        // The widget no longer knows who this is: nothing of the conversation may show, but
        // what the visitor typed stays for when the same person signs in again.
        let message = refusal_text(body);
        leptos::logging::warn!("palaver: the identity token was refused: {message}");
        self.stop_connection();
        self.set.state.set(ChatState::SignIn {
            error: Some(message),
        });
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
            let since = self.epoch();
            let chat = *self;
            spawn_local(async move {
                gloo_timers::future::sleep(IDENTITY_GRACE).await;
                let still = chat.still(since, Scope::Identity)
                    && chat.inner.with_value(|inner| inner.identity.expired);
                if still {
                    chat.update_state(ChatState::sign_in_expired);
                }
            });
        }
        true
    }

    /// Asks the page for a fresh identity before the bearer token runs out, then, at its
    /// expiry, lets the server say whether it still works: the browser's clock may not agree
    /// with the server's.
    fn schedule_refresh(&self, since: Epoch, expires_at_ms: f64) {
        let chat = *self;
        spawn_local(async move {
            let delay = refresh_delay(js_sys::Date::now(), expires_at_ms);
            sleep_ms(delay.as_millis() as f64).await;
            if !chat.still(since, Scope::Identity) {
                return;
            }
            chat.need_identity(Need::Refresh);
            chat.refresh_channel().await;
            sleep_ms(expires_at_ms - js_sys::Date::now() + 1_000.0).await;
            if !chat.still(since, Scope::Identity) {
                return;
            }
            if let Some(token) = chat.token()
                && let Err(failure) = chat.api().session(&token).await
                && chat.still(since, Scope::Identity)
            {
                chat.read_refused(&token, &failure);
            }
        });
    }
}
