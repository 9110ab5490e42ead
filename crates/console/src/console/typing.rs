//! Typing, both ways: the agent's keystrokes tell the visitor (at most every few seconds,
//! and once more when they stop), and the visitor's typing shows in the open conversation
//! until a message, a "stopped" or a few quiet seconds.

use std::time::Duration;

use leptos::prelude::*;
use palaver_protocol::frames::AgentFrame;
use uuid::Uuid;

use super::Console;

/// How long "is typing" stays without a fresh typing event from the visitor.
const VISITOR_TYPING_FOR: Duration = Duration::from_secs(6);
/// How often, at most, the agent's "still typing" goes out, and how long after the last
/// keystroke "stopped typing" follows.
const AGENT_TYPING_EVERY: Duration = Duration::from_secs(3);

impl Console {
    /// The agent typed in the open conversation's reply box: the visitor is told, at most
    /// every few seconds, and told again when the typing stops.
    pub fn typing(&self) {
        let Some(session) = self.main.id.get_untracked() else {
            return;
        };
        let now = js_sys::Date::now();
        let every = AGENT_TYPING_EVERY.as_millis() as f64;
        let (announce, generation) = self.inner.with_value(|inner| {
            let announce = inner
                .typing
                .is_none_or(|(held, sent_at)| held != session || now - sent_at >= every);
            (announce, inner.typing_generation + 1)
        });
        if announce {
            self.send_frame(AgentFrame::Typing {
                session_id: session,
                typing: true,
            });
        }
        self.inner.update_value(|inner| {
            inner.typing_generation = generation;
            if announce {
                inner.typing = Some((session, now));
            }
        });
        let console = *self;
        self.spawn(async move {
            gloo_timers::future::sleep(AGENT_TYPING_EVERY).await;
            if console.inner.with_value(|inner| inner.typing_generation) == generation {
                console.stop_typing();
            }
        });
    }

    /// The agent stopped typing (sent, paused, left the conversation).
    pub fn stop_typing(&self) {
        let typing = self
            .inner
            .try_update_value(|inner| inner.typing.take())
            .flatten();
        if let Some((session, _)) = typing {
            self.send_frame(AgentFrame::Typing {
                session_id: session,
                typing: false,
            });
        }
    }

    /// The visitor of a session started or stopped typing.
    pub(super) fn on_typing(&self, session: Uuid, typing: bool) {
        let view = self.main;
        if !view.is(session) {
            return;
        }
        view.visitor_typing.set(typing);
        view.typing_generation
            .update_value(|generation| *generation += 1);
        if typing {
            // A visitor whose widget went away sends no "stopped": the mark fades instead.
            let generation = view.typing_generation.get_value();
            self.spawn(async move {
                gloo_timers::future::sleep(VISITOR_TYPING_FOR).await;
                if view.typing_generation.get_value() == generation {
                    view.visitor_typing.set(false);
                }
            });
        }
    }
}
