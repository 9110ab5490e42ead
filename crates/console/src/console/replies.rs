//! Replies: the open conversation's draft goes out with a client id of its own; a network
//! failure is retried with the same id until the server answers, so a reply is never lost
//! nor doubled, and a refusal is shown with the draft kept.

use leptos::prelude::*;
use palaver_client::fetch::retry_unreachable;
use palaver_protocol::SendMessage;

use super::Console;

/// A reply on its way to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sending,
    /// The server could not be reached; trying again with the same id.
    Retrying,
}

impl Console {
    /// Sends the open conversation's draft. A network failure is retried with the same id
    /// until the server answers; a refusal is shown and the draft kept.
    pub fn reply(&self) {
        let Some(session) = self.main.id.get_untracked() else {
            return;
        };
        let me = self.me_id();
        let body = untrack(|| self.drafts.get(me, session))
            .text
            .trim()
            .to_owned();
        if body.is_empty()
            || self
                .deliveries
                .with_untracked(|held| held.contains_key(&session))
        {
            return;
        }
        let client_msg_id = self.drafts.attempt(me, session);
        self.stop_typing();
        self.main.error.set(None);
        self.deliveries.update(|held| {
            held.insert(session, Delivery::Sending);
        });
        let console = *self;
        let api = self.api();
        let message = SendMessage {
            client_msg_id,
            body,
        };
        self.spawn(async move {
            let result = retry_unreachable(
                || api.reply(session, &message),
                || {
                    console.deliveries.update(|held| {
                        held.insert(session, Delivery::Retrying);
                    });
                },
            )
            .await;
            console.deliveries.update(|held| {
                held.remove(&session);
            });
            match result {
                Ok(sent) => {
                    console.drafts.sent(me, session, &message.client_msg_id);
                    console.on_message(sent);
                }
                // An expired sign-in keeps the draft and its id for the next attempt.
                Err(failure) if failure.is_unauthorized() => console.failed(&failure),
                Err(failure) => {
                    console.drafts.refused(me, session);
                    if console.main.is(session) {
                        console.refused(console.main, &failure, "body");
                    }
                }
            }
        });
    }
}
