//! What the panel shows, as one enum, and the plain functions that move it as the chat goes
//! on. Nothing here touches the browser, so these rules are tested natively
//! (`cargo test -p palaver-widget --lib`) as well as in the browser.

use std::collections::BTreeMap;

use palaver_protocol::EndReason;

/// What the panel shows, with everything that belongs to that screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatState {
    /// Reading the stored session, finding out the channel's mode, or trading an identity
    /// token.
    Loading,
    /// A live channel's details form.
    Form(Form),
    /// A persistent channel with no verified visitor: no identity from the site yet, or one
    /// that the server or the site's provider refused (`error` says why).
    SignIn { error: Option<String> },
    /// A chat in progress.
    Chat(Chat),
    /// A live chat just ended; the transcript stays until the visitor starts a new one.
    Ended { reason: EndReason },
}

/// The details form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    /// Why an earlier chat is over, when one was.
    pub reason: Option<EndReason>,
    /// The details were sent and the server has not answered yet.
    pub starting: bool,
    /// A message for the whole form (outside hours, unreachable server).
    pub error: Option<String>,
    /// Per-field messages, as the server gave them.
    pub fields: BTreeMap<String, String>,
}

/// A chat in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chat {
    /// Persistent mode: an agent closed the conversation on screen; the visitor's next
    /// message starts a new one.
    pub closed: bool,
    /// Persistent mode: the sign-in ran out and the site gave no fresh identity.
    pub sign_in_expired: bool,
}

/// Which screen the panel shows: [`ChatState`] less what changes within a screen, so that
/// the panel rebuilds its body only when the screen changes (a draft in the composer or the
/// form survives an error message or a refreshed sign-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Loading,
    Form { reason: Option<EndReason> },
    SignIn,
    Chat,
    Ended { reason: EndReason },
}

impl ChatState {
    /// A fresh details form.
    pub fn form(reason: Option<EndReason>) -> Self {
        Self::Form(Form {
            reason,
            ..Form::default()
        })
    }

    /// A fresh chat.
    pub fn chat() -> Self {
        Self::Chat(Chat::default())
    }

    pub fn screen(&self) -> Screen {
        match self {
            Self::Loading => Screen::Loading,
            Self::Form(form) => Screen::Form {
                reason: form.reason,
            },
            Self::SignIn { .. } => Screen::SignIn,
            Self::Chat(_) => Screen::Chat,
            Self::Ended { reason } => Screen::Ended { reason: *reason },
        }
    }

    pub fn in_chat(&self) -> bool {
        matches!(self, Self::Chat(_))
    }

    /// The form, while it shows.
    pub fn form_state(&self) -> Option<&Form> {
        match self {
            Self::Form(form) => Some(form),
            _ => None,
        }
    }

    /// The chat's marks; none outside a chat.
    pub fn chat_state(&self) -> Chat {
        match self {
            Self::Chat(chat) => *chat,
            _ => Chat::default(),
        }
    }

    /// Why the sign-in shows, when it shows with a reason.
    pub fn identity_error(&self) -> Option<&str> {
        match self {
            Self::SignIn { error } => error.as_deref(),
            _ => None,
        }
    }

    /// The visitor sent the form: it waits for the server, its old errors gone.
    pub fn starting(&mut self) {
        if let Self::Form(form) = self {
            form.starting = true;
            form.error = None;
            form.fields.clear();
        }
    }

    /// The server refused the details or could not be reached: per-field messages, or one for
    /// the whole form when no field is named.
    pub fn start_failed(&mut self, message: String, fields: BTreeMap<String, String>) {
        if let Self::Form(form) = self {
            form.starting = false;
            form.error = fields.is_empty().then_some(message);
            form.fields = fields;
        }
    }

    /// The chat is over. Returns `false` when it already was, so it ends once.
    pub fn end(&mut self, reason: EndReason) -> bool {
        if matches!(self, Self::Ended { .. }) {
            return false;
        }
        *self = Self::Ended { reason };
        true
    }

    /// Why the last chat ended, for the form that follows it.
    pub fn ended_reason(&self) -> Option<EndReason> {
        match self {
            Self::Ended { reason } => Some(*reason),
            _ => None,
        }
    }

    /// An identity token is being traded: the panel waits, unless a chat already shows.
    pub fn signing_in(&mut self) {
        if !self.in_chat() {
            *self = Self::Loading;
        }
    }

    /// The visitor is signed in (again): the chat shows, and whether its conversation is
    /// closed stays as it was.
    pub fn signed_in(&mut self) {
        *self = Self::Chat(Chat {
            closed: self.chat_state().closed,
            sign_in_expired: false,
        });
    }

    /// The sign-in ran out and no fresh identity came.
    pub fn sign_in_expired(&mut self) {
        if let Self::Chat(chat) = self {
            chat.sign_in_expired = true;
        }
    }

    /// An agent closed the conversation on screen. Returns whether that is news.
    pub fn close_conversation(&mut self) -> bool {
        match self {
            Self::Chat(chat) if !chat.closed => {
                chat.closed = true;
                true
            }
            _ => false,
        }
    }

    /// The conversation on screen is open (again, or a fresh one replaced it).
    pub fn reopen_conversation(&mut self) {
        if let Self::Chat(chat) = self {
            chat.closed = false;
        }
    }

    /// The visitor is forgotten: nothing of theirs stays marked.
    pub fn forget(&mut self) {
        if let Self::Chat(chat) = self {
            *chat = Chat::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn refused(field: &str) -> BTreeMap<String, String> {
        [(field.to_owned(), "Not valid.".to_owned())].into()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_refused_start_shows_field_errors_or_else_one_for_the_form_and_a_new_try_clears_them() {
        let mut state = ChatState::form(None);
        state.starting();
        assert!(state.form_state().is_some_and(|form| form.starting));

        state.start_failed("Check the fields.".into(), refused("phone"));
        let form = state.form_state().expect("the form");
        assert!(!form.starting);
        assert_eq!(form.error, None, "the fields say what is wrong");
        assert_eq!(form.fields, refused("phone"));

        state.starting();
        state.start_failed("No agent is available.".into(), BTreeMap::new());
        let form = state.form_state().expect("the form");
        assert_eq!(form.error.as_deref(), Some("No agent is available."));
        assert!(form.fields.is_empty());
        assert_eq!(state.screen(), Screen::Form { reason: None });
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_answer_to_a_form_that_is_gone_changes_nothing() {
        let mut state = ChatState::chat();
        state.start_failed("Too late.".into(), refused("name"));
        assert_eq!(state, ChatState::chat());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_chat_ends_once_and_the_next_form_says_why() {
        let mut state = ChatState::chat();
        assert!(state.end(EndReason::Agent));
        assert!(!state.end(EndReason::Visitor), "already over");
        assert_eq!(state.ended_reason(), Some(EndReason::Agent));
        assert_eq!(
            state.screen(),
            Screen::Ended {
                reason: EndReason::Agent
            }
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_closed_conversation_is_news_once_and_reopens_with_the_next_one() {
        let mut state = ChatState::chat();
        assert!(state.close_conversation());
        assert!(!state.close_conversation());
        assert!(state.chat_state().closed);
        state.reopen_conversation();
        assert!(!state.chat_state().closed);
        assert!(
            !ChatState::Loading.close_conversation(),
            "nothing is on screen"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn signing_in_again_clears_an_expired_sign_in_and_keeps_a_closed_conversation_closed() {
        let mut state = ChatState::chat();
        state.close_conversation();
        state.sign_in_expired();
        assert!(state.chat_state().sign_in_expired);

        state.signing_in();
        assert_eq!(state.screen(), Screen::Chat, "the chat stays meanwhile");
        state.signed_in();
        assert_eq!(
            state.chat_state(),
            Chat {
                closed: true,
                sign_in_expired: false
            }
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_sign_in_from_the_sign_in_screen_waits_then_shows_a_fresh_chat() {
        let mut state = ChatState::SignIn {
            error: Some("Expired.".into()),
        };
        assert_eq!(state.identity_error(), Some("Expired."));
        state.signing_in();
        assert_eq!(state, ChatState::Loading);
        state.signed_in();
        assert_eq!(state, ChatState::chat());
        assert_eq!(state.identity_error(), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn forgetting_the_visitor_clears_the_chats_marks() {
        let mut state = ChatState::chat();
        state.close_conversation();
        state.sign_in_expired();
        state.forget();
        assert_eq!(state, ChatState::chat());
    }
}
