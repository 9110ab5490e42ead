//! The conversation's history: the newest page when a connection first opens, and earlier
//! pages when the visitor scrolls up. Messages are kept by sequence number, so a page that
//! overlaps what is held adds nothing twice.

use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::{EndReason, ErrorCode, Message};

use super::{
    ChatConnection,
    epoch::{Epoch, Scope},
};
use crate::api::ApiFailure;

/// Messages per history page: a screenful or two, well under the server's
/// [`palaver_protocol::limits::PAGE_MAX`].
pub(super) const PAGE: u32 = 30;

/// What became of the first page.
pub(super) enum FirstPage {
    /// Loaded now or before (or there is no open conversation to load).
    Loaded,
    /// The answer belongs to a connection that was stopped meanwhile.
    Stale,
    /// The server refused the token.
    Refused,
    /// The session is over.
    Over(EndReason),
    /// Try again later.
    Unreachable,
}

impl ChatConnection {
    /// Loads the newest page, unless the session's history is loaded already.
    pub(super) async fn first_page(&self, token: &str, since: Epoch) -> FirstPage {
        if self.inner.with_value(|inner| inner.history_loaded) {
            return FirstPage::Loaded;
        }
        let result = self.api().messages(token, &format!("?limit={PAGE}")).await;
        if !self.still(since, Scope::Connection) {
            return FirstPage::Stale;
        }
        match result {
            Ok(page) => {
                self.add_page(page.messages);
                self.set.has_older.set(page.has_more);
            }
            Err(ApiFailure::Refused { status: 401, .. }) => return FirstPage::Refused,
            Err(failure) if failure.code() == Some(ErrorCode::NoConversation) => {
                // Closed since the sign-in: nothing to load until the next message.
                self.conversation_gone(None);
            }
            Err(ApiFailure::Refused { status: 410, body }) => {
                return FirstPage::Over(body.end_reason.unwrap_or(EndReason::Expired));
            }
            Err(_) => return FirstPage::Unreachable,
        }
        self.inner.update_value(|inner| inner.history_loaded = true);
        FirstPage::Loaded
    }

    /// Loads the page of messages before the first one held.
    pub fn load_older(&self) {
        let (Some(token), Some(first)) = (
            self.token(),
            self.messages
                .with_untracked(|messages| messages.keys().next().copied()),
        ) else {
            return;
        };
        let chat = *self;
        let since = self.epoch();
        spawn_local(async move {
            let query = format!("?before={first}&limit={PAGE}");
            let result = chat.api().messages(&token, &query).await;
            if !chat.still(since, Scope::Visitor) {
                return;
            }
            match result {
                Ok(page) => {
                    chat.add_page(page.messages);
                    chat.set.has_older.set(page.has_more);
                }
                Err(failure) => chat.read_refused(&token, &failure),
            }
        });
    }

    /// Takes in a page of history.
    pub(super) fn add_page(&self, page: Vec<Message>) {
        for message in page {
            if self.on_screen(message.session_id) {
                self.set.messages.update(|messages| {
                    messages.insert(message.seq, message);
                });
            }
        }
    }
}
