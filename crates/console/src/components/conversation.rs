//! A conversation: who it is with and where it stands, its actions (join, set waiting, end,
//! Chat History), its Regarding, its messages, and the reply box. An ended session, or one
//! opened from Chat History, is read-only.

use leptos::prelude::*;
use palaver_protocol::{AgentSession, ChannelMode, SessionState};

use crate::{
    api::Action,
    components::{
        message_list::MessageList, regarding::Regarding, reply_box::ReplyBox, timestamp::Timestamp,
    },
    console::{Console, SessionView},
    inbox::{mode_name, state_name},
};

/// What the agent may do with the session, given its state and who holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Allowed {
    read_only: bool,
    join: bool,
    wait: bool,
}

impl Allowed {
    fn of(row: Option<&AgentSession>, me: uuid::Uuid, from_history: bool) -> Self {
        let Some(row) = row else {
            return Self {
                read_only: true,
                join: false,
                wait: false,
            };
        };
        let session = &row.session;
        let read_only = from_history || session.state == SessionState::Ended;
        let mine_and_active = session.state == SessionState::Active
            && session.agent.as_ref().is_some_and(|agent| agent.id == me);
        Self {
            read_only,
            // A waiting conversation is anyone's to take up, the holder's included.
            join: !read_only && !mine_and_active,
            wait: !read_only && mine_and_active && session.mode == ChannelMode::Persistent,
        }
    }
}

/// The conversation in `view`.
#[component]
pub fn Conversation(
    /// The conversation to show.
    view: SessionView,
    /// Opened from Chat History: read-only, with a way back to the list.
    #[prop(optional)]
    from_history: bool,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let me = console.me_id();
    let session = view.session;
    let allowed =
        Memo::new(move |_| session.with(|row| Allowed::of(row.as_ref(), me, from_history)));
    // Apart, so that the reply box is drawn again only when these change, never on an
    // unrelated change of the session.
    let loaded = Memo::new(move |_| session.with(Option::is_some));
    let read_only = Memo::new(move |_| allowed.get().read_only);
    let field = move |read: fn(&AgentSession) -> String| {
        move || session.with(|row| row.as_ref().map(read).unwrap_or_default())
    };
    let busy = view.busy;
    view! {
        <section
            class="conversation"
            data-testid="conversation"
            data-session-id=move || view.id.get().map(|id| id.to_string())
            aria-busy=move || view.loading.get().to_string()
        >
            {from_history
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="quiet back"
                            data-testid="history-back"
                            on:click=move |_| console.view_in_history(None)
                        >
                            "← Back to Chat History"
                        </button>
                    }
                })}
            <header class="conversation-head">
                <div class="to" data-testid="conversation-to">
                    <h2>{field(|row| row.to.name.clone())}</h2>
                    <p class="to-details">
                        {move || {
                            session
                                .with(|row| {
                                    row.as_ref()
                                        .map(|row| {
                                            [
                                                ("Phone", &row.to.phone),
                                                ("Email", &row.to.email),
                                                ("User id", &row.to.user_id),
                                            ]
                                                .into_iter()
                                                .filter_map(|(label, value)| {
                                                    value.clone().map(|value| (label, value))
                                                })
                                                .collect::<Vec<_>>()
                                        })
                                        .unwrap_or_default()
                                })
                                .into_iter()
                                .map(|(label, value)| {
                                    view! {
                                        <span class="to-detail">
                                            <span class="visually-hidden">{label} ": "</span>
                                            {value}
                                        </span>
                                    }
                                })
                                .collect_view()
                        }}
                    </p>
                </div>
                <div class="actions">
                    <Show when=move || allowed.get().join>
                        <button
                            type="button"
                            class="primary"
                            data-testid="join"
                            disabled=move || busy.get()
                            on:click=move |_| console.act(Action::Join)
                        >
                            "Join"
                        </button>
                    </Show>
                    <Show when=move || allowed.get().wait>
                        <button
                            type="button"
                            data-testid="set-waiting"
                            title="Put it aside until the visitor writes again"
                            disabled=move || busy.get()
                            on:click=move |_| console.act(Action::Wait)
                        >
                            "Set waiting"
                        </button>
                    </Show>
                    <Show when=move || !read_only.get()>
                        <button
                            type="button"
                            class="danger"
                            data-testid="end-session"
                            disabled=move || busy.get()
                            on:click=move |_| console.act(Action::End)
                        >
                            "End"
                        </button>
                    </Show>
                    <Show when=move || !from_history && loaded.get()>
                        <button
                            type="button"
                            data-testid="chat-history-button"
                            on:click=move |_| console.open_history()
                        >
                            "Chat History"
                        </button>
                    </Show>
                </div>
            </header>
            <dl class="facts">
                <div>
                    <dt>"Configuration"</dt>
                    <dd data-testid="conversation-channel">
                        {move || {
                            session
                                .with(|row| row.as_ref().map(|row| row.session.channel.clone()))
                                .map(|id| console.channel_name(&id))
                        }}
                    </dd>
                </div>
                <div>
                    <dt>"Mode"</dt>
                    <dd>{field(|row| mode_name(row.session.mode).to_owned())}</dd>
                </div>
                <div>
                    <dt>"State"</dt>
                    <dd data-testid="conversation-state">
                        {field(|row| state_name(row.session.state).to_owned())}
                    </dd>
                </div>
                <div>
                    <dt>"Agent"</dt>
                    <dd data-testid="conversation-agent">
                        {field(|row| {
                            row.session.agent.as_ref().map(|agent| agent.name.clone()).unwrap_or_default()
                        })}
                    </dd>
                </div>
                <div>
                    <dt>"Start"</dt>
                    <dd>
                        {move || {
                            session
                                .with(|row| row.as_ref().map(|row| row.session.started_at))
                                .map(|at| view! { <Timestamp at long=true /> })
                        }}
                    </dd>
                </div>
                <div>
                    <dt>"End"</dt>
                    <dd>
                        {move || {
                            session
                                .with(|row| row.as_ref().and_then(|row| row.session.ended_at))
                                .map(|at| view! { <Timestamp at long=true /> })
                        }}
                    </dd>
                </div>
            </dl>
            <Regarding view editable=Signal::derive(move || !read_only.get()) />
            <MessageList view />
            {move || {
                view.error
                    .get()
                    .map(|error| {
                        view! {
                            <p class="error conversation-error" role="alert" data-testid="conversation-error">
                                {error}
                            </p>
                        }
                    })
            }}
            {move || {
                if !loaded.get() {
                    ().into_any()
                } else if read_only.get() {
                    let notice = if from_history {
                        "From Chat History: read-only."
                    } else {
                        "This conversation has ended: read-only."
                    };
                    view! {
                        <p class="read-only-notice" data-testid="read-only-notice" role="note">
                            {notice}
                        </p>
                    }
                        .into_any()
                } else {
                    view! { <ReplyBox /> }.into_any()
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::{AgentRef, Sender, SessionState};
    use serde_json::json;
    use uuid::Uuid;
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::test_support::{Agent, Mounted, error, eventually, held, message, push, row};

    #[wasm_bindgen_test]
    async fn what_visitors_type_shows_as_text_and_system_messages_stand_apart() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let mut chat = row(0);
        chat.session.regarding = Some("<b>Order</b>".into());
        chat.to.name = "<img src=x onerror=alert(1)>".into();
        let id = chat.session.id;
        let console = Mounted::open(
            &agent,
            &chat,
            &[
                message(id, 1, Sender::System, "You are number 1 in the queue."),
                message(id, 2, Sender::Visitor, "<script>alert(1)</script> hi"),
                message(
                    id,
                    3,
                    Sender::Agent {
                        id: Uuid::new_v4(),
                        name: "Grace".into(),
                    },
                    "Hello! https://example.com",
                ),
            ],
        )
        .await;
        assert_eq!(
            console.messages(),
            [
                ("system".into(), "You are number 1 in the queue.".into()),
                ("visitor".into(), "<script>alert(1)</script> hi".into()),
                ("agent".into(), "Hello! https://example.com".into()),
            ]
        );
        let conversation = console.find("conversation").expect("the conversation");
        for tag in ["img", "script", "b", "a"] {
            assert!(
                conversation
                    .query_selector(tag)
                    .expect("a valid selector")
                    .is_none(),
                "no <{tag}> came from what was typed"
            );
        }
        assert!(
            console
                .text("conversation-to")
                .contains("<img src=x onerror=alert(1)>")
        );
        let system = &console.all("message")[0];
        assert!(system.class_list().contains("system"));
        assert!(system.text_content().unwrap_or_default().contains("System"));
    }

    #[wasm_bindgen_test]
    async fn a_queued_live_chat_offers_join_and_end_and_shows_a_refusal_in_words() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = row(0);
        let id = chat.session.id;
        let console = Mounted::open(&agent, &chat, &[]).await;
        assert_eq!(console.text("conversation-state"), "queued");
        assert!(console.find("end-session").is_some());
        assert!(
            console.find("set-waiting").is_none(),
            "live chats do not wait"
        );
        assert!(console.find("reply-input").is_some());
        assert!(console.find("read-only-notice").is_none());

        let mut taken = chat.clone();
        taken.session.state = SessionState::Active;
        taken.session.agent = Some(AgentRef {
            id: Uuid::new_v4(),
            name: "Grace".into(),
        });
        agent.answer(
            "POST",
            &format!("/sessions/{id}/join"),
            409,
            error("already_joined", "Another agent has joined this chat."),
        );
        agent.answer("GET", &format!("/sessions/{id}"), 200, json!(taken));
        console.find("join").expect("a Join button").click();
        console.wait_for("conversation-error").await;
        assert_eq!(
            console.text("conversation-error"),
            "Another agent has joined this chat."
        );
        eventually("the session shows who holds it", || {
            console.text("conversation-agent") == "Grace"
        })
        .await;
        assert_eq!(console.text("conversation-state"), "active");
        assert!(console.find("join").is_some(), "still not held by me");
    }

    #[wasm_bindgen_test]
    async fn a_persistent_chat_i_hold_can_be_set_waiting() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let mut chat = held(row(0), &agent);
        chat.session.mode = palaver_protocol::ChannelMode::Persistent;
        let id = chat.session.id;
        let console = Mounted::open(&agent, &chat, &[]).await;
        assert!(console.find("join").is_none(), "already mine");

        let mut waiting = chat.clone();
        waiting.session.state = SessionState::Waiting;
        agent.answer("POST", &format!("/sessions/{id}/wait"), 200, json!(waiting));
        console
            .find("set-waiting")
            .expect("a Set waiting button")
            .click();
        eventually("the session is waiting", || {
            console.text("conversation-state") == "waiting"
        })
        .await;
        assert!(console.find("set-waiting").is_none());
        assert!(
            console.find("join").is_some(),
            "a waiting chat can be taken up again"
        );
    }

    #[wasm_bindgen_test]
    async fn an_ended_conversation_is_read_only_but_keeps_its_chat_history() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let mut chat = held(row(0), &agent);
        chat.session.state = SessionState::Ended;
        chat.session.ended_at = Some(chat.session.started_at + chrono::Duration::minutes(9));
        let id = chat.session.id;
        let console =
            Mounted::open(&agent, &chat, &[message(id, 1, Sender::Visitor, "Thanks!")]).await;
        for action in [
            "reply-input",
            "join",
            "set-waiting",
            "end-session",
            "regarding-input",
        ] {
            assert!(console.find(action).is_none(), "no {action}");
        }
        assert!(console.find("chat-history-button").is_some());
    }

    #[wasm_bindgen_test]
    async fn the_visitors_typing_shows_until_their_message_arrives() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = held(row(0), &agent);
        let id = chat.session.id;
        let console = Mounted::open(&agent, &chat, &[]).await;
        agent.stream_ready().await;

        push(json!({"type": "typing", "session_id": Uuid::new_v4(), "typing": true}));
        push(json!({"type": "typing", "session_id": id, "typing": true}));
        console.wait_for("visitor-typing").await;
        assert!(console.text("visitor-typing").contains("typing"));

        push(json!({"type": "message", "message": message(id, 2, Sender::Visitor, "Hi")}));
        eventually("the message replaces the typing", || {
            console.find("visitor-typing").is_none() && console.messages().len() == 1
        })
        .await;
    }

    #[wasm_bindgen_test]
    async fn regarding_is_saved_and_a_refusal_is_explained() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = held(row(0), &agent);
        let id = chat.session.id;
        let console = Mounted::open(&agent, &chat, &[]).await;

        agent.answer(
            "PUT",
            &format!("/sessions/{id}/regarding"),
            422,
            json!({"error": "validation", "message": "Some fields need fixing.",
                   "fields": {"regarding": "Regarding is at most 200 characters."}}),
        );
        assert_eq!(
            console
                .find("regarding-input")
                .and_then(|input| input.get_attribute("maxlength")),
            Some("200".to_owned()),
            "typing stops where the server's limit is"
        );
        // A script can still set a longer value: the server's refusal is shown.
        console.type_into("regarding-input", &"x".repeat(201)).await;
        console
            .find("regarding-save")
            .expect("a Save button")
            .click();
        console.wait_for("conversation-error").await;
        assert_eq!(
            console.text("conversation-error"),
            "Regarding is at most 200 characters."
        );

        let mut saved = chat.clone();
        saved.session.regarding = Some("Order #7".into());
        agent.answer(
            "PUT",
            &format!("/sessions/{id}/regarding"),
            200,
            json!(saved),
        );
        console.type_into("regarding-input", "  Order #7 ").await;
        console
            .find("regarding-save")
            .expect("a Save button")
            .click();
        eventually("the error goes", || {
            console.find("conversation-error").is_none()
        })
        .await;
        assert_eq!(
            crate::test_support::requests(&format!("PUT /api/v1/agent/sessions/{id}/regarding"))
                .last(),
            Some(&json!({"regarding": "Order #7"}))
        );
    }
}
