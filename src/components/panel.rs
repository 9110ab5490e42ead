//! The chat panel: the card the launcher opens. Its header names the chat and shows the
//! connection; its body is the details form, the conversation, or the end of one, and on a
//! persistent channel the sign-in or the conversation, which only an agent ends.

use leptos::{html, prelude::*};

use crate::{
    chat::{ChatConnection, Link, Screen},
    components::{
        composer::Composer, message_list::MessageList, notices::ChatNotices,
        prechat_form::PrechatForm, sign_in::SignIn,
    },
    i18n::Texts,
    ui::Ui,
};

/// The panel, kept in the document while closed (with `hidden`) so that the launcher's
/// `aria-controls` always points at an element.
#[component]
pub fn Panel(
    /// Lets the app move focus into the panel when it opens.
    node_ref: NodeRef<html::Section>,
) -> impl IntoView {
    let Ui { open } = expect_context();
    let chat = expect_context::<ChatConnection>();
    let texts = expect_context::<&'static Texts>();
    // The body is rebuilt only when the screen changes, not with every change within one.
    let screen = Memo::new(move |_| chat.state.with(|state| state.screen()));
    let in_chat = move || screen.get() == Screen::Chat;
    // A persistent conversation is ended by agents only.
    let can_end = move || in_chat() && !chat.persistent();
    view! {
        <section
            node_ref=node_ref
            id="palaver-panel"
            class="panel"
            data-testid="panel"
            role="dialog"
            aria-labelledby="palaver-panel-title"
            hidden=move || !open.get()
        >
            <header class="panel-header">
                <div class="panel-heading">
                    <h2 id="palaver-panel-title" class="panel-title">
                        {texts.title}
                    </h2>
                    <Show when=in_chat>
                        <p
                            class="connection"
                            data-testid="connection"
                            data-state=move || chat.link.get().to_string()
                        >
                            {move || texts.link(chat.link.get())}
                        </p>
                    </Show>
                </div>
                <Show when=can_end>
                    <button
                        type="button"
                        class="end-chat"
                        data-testid="end-chat"
                        on:click=move |_| chat.end()
                    >
                        {texts.end_chat}
                    </button>
                </Show>
                <button
                    type="button"
                    class="panel-close"
                    data-testid="panel-close"
                    aria-label=texts.close
                    on:click=move |_| open.set(false)
                >
                    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                        <path d="M6 6l12 12M18 6L6 18" />
                    </svg>
                </button>
            </header>
            {move || match screen.get() {
                Screen::Loading => {
                    view! { <p class="notice">{texts.link(Link::Connecting)}</p> }
                        .into_any()
                }
                Screen::Form { reason } => view! { <PrechatForm reason /> }.into_any(),
                Screen::SignIn => view! { <SignIn /> }.into_any(),
                Screen::Chat => view! { <MessageList /> <ChatNotices /> <Composer /> }.into_any(),
                Screen::Ended { reason } => {
                    view! {
                        <MessageList />
                        <div class="ended" data-testid="chat-ended">
                            <p data-testid="ended-reason">{texts.ended(reason)}</p>
                            <button
                                type="button"
                                class="primary"
                                data-testid="new-chat"
                                data-focus-first
                                on:click=move |_| chat.new_chat()
                            >
                                {texts.new_chat}
                            </button>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
