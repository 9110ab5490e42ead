//! What the visitor types: it shows at once as pending, is kept in storage until the server
//! confirms it, and is retried with the same client id (on every reconnection) so the server
//! never takes it twice. Confirmed messages, from a send's answer or the stream, land here
//! too: a confirmation takes its message out of the outbox.

use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::{EndReason, Message, SendMessage, Sender};
use uuid::Uuid;

use super::{ChatConnection, Outgoing, epoch::Scope};
use crate::{api::ApiFailure, session::Pending};

impl ChatConnection {
    /// Sends a message: it shows at once as pending and turns sent when confirmed.
    pub fn send(&self, body: String) {
        let pending = Pending {
            client_msg_id: Uuid::new_v4().to_string(),
            body,
        };
        self.set
            .outbox
            .update(|outbox| outbox.push(Outgoing::new(pending.clone())));
        self.save_outbox();
        self.set_typing(false);
        spawn_local(self.deliver(pending));
    }

    /// The messages still to deliver: the outbox less what the server refused.
    fn undelivered(&self) -> Vec<Pending> {
        self.outbox.with_untracked(|outbox| {
            outbox
                .iter()
                .filter(|outgoing| outgoing.refused.is_none())
                .map(|outgoing| outgoing.pending.clone())
                .collect()
        })
    }

    fn save_outbox(&self) {
        self.stored().save_outbox(&self.undelivered());
    }

    /// Posts one pending message. Unreachable or failing servers leave it pending for the
    /// next connection; a retry with the same client id never doubles it.
    async fn deliver(self, pending: Pending) {
        let Some(token) = self.token() else {
            return;
        };
        if self.waits_for_identity() {
            return;
        }
        let message = SendMessage {
            client_msg_id: pending.client_msg_id.clone(),
            body: pending.body.clone(),
        };
        let since = self.epoch();
        let result = self.api().send(&token, &message).await;
        if !self.still(since, Scope::Visitor) {
            return;
        }
        match result {
            Ok(message) => self.receive(message, false),
            Err(ApiFailure::Refused { status: 401, .. }) => {
                // Kept for the next identity; sent again at once if one came meanwhile.
                if !self.token_refused(&token) {
                    spawn_local(self.deliver(pending));
                }
            }
            Err(ApiFailure::Refused { status: 410, body }) => {
                self.finish(body.end_reason.unwrap_or(EndReason::Expired))
            }
            Err(ApiFailure::Refused { status: 422, body }) => {
                let reason = body.fields.get("body").cloned().unwrap_or(body.message);
                self.set.outbox.update(|outbox| {
                    if let Some(outgoing) = outbox
                        .iter_mut()
                        .find(|outgoing| outgoing.pending == pending)
                    {
                        outgoing.refused = Some(reason);
                    }
                });
                self.save_outbox();
            }
            Err(_) => self.kick(),
        }
    }

    /// Retries every pending message, in order.
    pub(super) async fn flush(self) {
        for pending in self.undelivered() {
            self.deliver(pending).await;
        }
    }

    /// Takes in a confirmed message, from the stream (`live`) or a send's answer.
    pub(super) fn receive(&self, message: Message, live: bool) {
        if let Some(client_msg_id) = &message.client_msg_id
            && message.sender == Sender::Visitor
        {
            let confirmed = self
                .set
                .outbox
                .try_update(|outbox| {
                    let before = outbox.len();
                    outbox.retain(|outgoing| &outgoing.pending.client_msg_id != client_msg_id);
                    outbox.len() != before
                })
                .unwrap_or(false);
            if confirmed {
                self.save_outbox();
            }
        }
        if !self.on_screen(message.session_id) {
            return;
        }
        let new = self
            .set
            .messages
            .try_update(|messages| messages.insert(message.seq, message.clone()).is_none())
            .unwrap_or(false);
        if !new || !live || message.sender == Sender::Visitor {
            return;
        }
        let texts = self.texts();
        let who = match &message.sender {
            Sender::Agent { name, .. } => name.clone(),
            Sender::System | Sender::Visitor => texts.title.to_owned(),
        };
        self.set
            .announcement
            .set(format!("{who}: {}", message.body));
        if let Sender::Agent { .. } = message.sender {
            self.set.agent_typing.set(None);
        }
        if !self.open.get_untracked() {
            self.set.unread.update(|unread| *unread += 1);
        }
        self.emit("message", &message);
    }
}
