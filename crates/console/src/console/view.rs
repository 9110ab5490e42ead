//! The conversation view: [`SessionView`], one conversation on screen (the open one, or one
//! opened read-only from Chat History), and how it loads: the newest page, earlier pages,
//! and after a reconnect everything after the last message held, page by page.

use leptos::prelude::*;
use palaver_client::Transcript;
use palaver_protocol::{AgentSession, frames::AgentFrame, limits::PAGE_MAX};
use uuid::Uuid;

use super::Console;
use crate::api::Words;

/// Messages per page of a conversation: the most the server gives at once.
const PAGE: u32 = PAGE_MAX;

/// One conversation on screen: the open one, or one opened read-only from Chat History.
#[derive(Debug, Clone, Copy)]
pub struct SessionView {
    pub id: RwSignal<Option<Uuid>>,
    pub session: RwSignal<Option<AgentSession>>,
    pub transcript: RwSignal<Transcript>,
    /// Whether older messages than the first one held exist.
    pub has_earlier: RwSignal<bool>,
    pub loading: RwSignal<bool>,
    /// What went wrong last, in words.
    pub error: RwSignal<Option<String>>,
    pub visitor_typing: RwSignal<bool>,
    /// An action (join, set waiting, end, Regarding) is on its way.
    pub busy: RwSignal<bool>,
    /// Bumped whenever another session is shown, so answers for the last one are dropped.
    pub(super) generation: StoredValue<u32>,
    /// Bumped per visitor typing event, so that only the latest one's fading counts.
    pub(super) typing_generation: StoredValue<u32>,
}

impl SessionView {
    pub(super) fn new() -> Self {
        Self {
            id: RwSignal::new(None),
            session: RwSignal::new(None),
            transcript: RwSignal::new(Transcript::default()),
            has_earlier: RwSignal::new(false),
            loading: RwSignal::new(false),
            error: RwSignal::new(None),
            visitor_typing: RwSignal::new(false),
            busy: RwSignal::new(false),
            generation: StoredValue::new(0),
            typing_generation: StoredValue::new(0),
        }
    }

    /// Whether this view shows `session`.
    pub fn is(&self, session: Uuid) -> bool {
        self.id.get_untracked() == Some(session)
    }

    /// Shows `session` (or nothing), empty; returns the generation its answers must carry.
    pub(super) fn reset(&self, session: Option<Uuid>) -> u32 {
        self.generation.update_value(|generation| *generation += 1);
        // Set only on a change: the pane draws the conversation again when the id is set.
        if self.id.get_untracked() != session {
            self.id.set(session);
        }
        self.session.set(None);
        self.transcript
            .set(session.map(Transcript::of).unwrap_or_default());
        self.has_earlier.set(false);
        self.loading.set(session.is_some());
        self.error.set(None);
        self.visitor_typing.set(false);
        self.busy.set(false);
        self.generation.get_value()
    }

    /// Whether an answer asked for at `generation` is still for what the view shows.
    pub(super) fn current(&self, generation: u32) -> bool {
        self.generation.get_value() == generation
    }
}

impl Console {
    /// Opens a conversation (the address changed), closing Chat History.
    pub(super) fn open(&self, session: Option<Uuid>) {
        self.close_history();
        if self.main.id.get_untracked() == session {
            return;
        }
        self.stop_typing();
        // The stream brings the typing of the conversation on screen only.
        self.send_frame(AgentFrame::Open {
            session_id: session,
        });
        if let Some(session) = session {
            // The mark goes at once, without waiting for the conversation to load.
            let last_seq = self.rows.with_untracked(|rows| {
                rows.iter()
                    .find(|row| row.session.id == session)
                    .map(|row| row.session.last_seq)
            });
            if let Some(last_seq) = last_seq {
                self.mark_read(session, last_seq);
            }
        }
        self.show(self.main, session);
    }

    /// Loads `session` into `view`: the session and its newest page of messages.
    pub(super) fn show(&self, view: SessionView, session: Option<Uuid>) {
        let generation = view.reset(session);
        let Some(id) = session else {
            return;
        };
        let console = *self;
        let api = self.api();
        let query = [("limit", PAGE.to_string())];
        self.spawn(async move {
            let (row, page) = futures::join!(api.session(id), api.messages(id, &query));
            if !view.current(generation) {
                return;
            }
            view.loading.set(false);
            match row {
                // A live change that arrived meanwhile is at least as new.
                Ok(row) if view.session.with_untracked(Option::is_none) => {
                    view.session.set(Some(row));
                }
                Ok(_) => {}
                Err(failure) => {
                    console.failed(&failure);
                    view.error.set(Some(failure.words("")));
                }
            }
            match page {
                Ok(page) => {
                    view.transcript.update(|transcript| {
                        transcript.extend(page.messages);
                    });
                    view.has_earlier.set(page.has_more);
                }
                Err(failure) => console.failed(&failure),
            }
            if console.main.is(id) {
                let last_seq = view
                    .session
                    .with_untracked(|row| row.as_ref().map_or(0, |row| row.session.last_seq))
                    .max(view.transcript.with_untracked(Transcript::last_seq));
                console.mark_read(id, last_seq);
            }
        });
    }

    /// Loads the page of messages before the first one held.
    pub fn load_earlier(&self, view: SessionView) {
        let (Some(id), Some(first)) = (
            view.id.get_untracked(),
            view.transcript.with_untracked(Transcript::first_seq),
        ) else {
            return;
        };
        let generation = view.generation.get_value();
        let console = *self;
        let api = self.api();
        view.loading.set(true);
        self.spawn(async move {
            let query = [("before", first.to_string()), ("limit", PAGE.to_string())];
            let result = api.messages(id, &query).await;
            if !view.current(generation) {
                return;
            }
            view.loading.set(false);
            match result {
                Ok(page) => {
                    view.transcript.update(|transcript| {
                        transcript.extend(page.messages);
                    });
                    view.has_earlier.set(page.has_more);
                }
                Err(failure) => {
                    console.failed(&failure);
                    view.error.set(Some(failure.words("")));
                }
            }
        });
    }

    /// After a reconnect: the session as it stands, and every message after the last one
    /// held, page by page.
    pub(super) async fn catch_up(self, view: SessionView) {
        let Some(id) = view.id.get_untracked() else {
            return;
        };
        if view.transcript.with_untracked(Transcript::is_empty) {
            // Nothing held to continue from (the first load failed or is on its way): the
            // newest page again, rather than the whole conversation from its start.
            self.show(view, Some(id));
            return;
        }
        let generation = view.generation.get_value();
        let api = self.api();
        if let Ok(row) = api.session(id).await
            && view.current(generation)
        {
            view.session.set(Some(row));
        }
        loop {
            if !view.current(generation) {
                return;
            }
            let after = view.transcript.with_untracked(Transcript::last_seq);
            let query = [("after", after.to_string()), ("limit", PAGE.to_string())];
            match api.messages(id, &query).await {
                Ok(page) if view.current(generation) => {
                    let more = page.has_more;
                    for message in page.messages {
                        self.on_message(message);
                    }
                    if !more {
                        return;
                    }
                }
                Ok(_) => return,
                Err(failure) => {
                    self.failed(&failure);
                    return;
                }
            }
        }
    }

    /// Fetches the session shown in `view` again, after an action was refused.
    pub(super) fn refresh(&self, view: SessionView) {
        let Some(id) = view.id.get_untracked() else {
            return;
        };
        let console = *self;
        let api = self.api();
        self.spawn(async move {
            match api.session(id).await {
                Ok(row) => console.on_session(row),
                Err(failure) => console.failed(&failure),
            }
        });
    }
}
