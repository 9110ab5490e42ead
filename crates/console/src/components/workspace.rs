//! The signed-in console: starts [`use_console`], provides it once, and lays out the header,
//! the inbox on the left and the conversation on the right.

use leptos::prelude::*;

use crate::{
    auth::SignedIn,
    components::{conversation_pane::ConversationPane, header::Header, inbox::Inbox, team::Team},
    console::use_console,
};

/// The console of a signed-in agent; everything it started stops when it goes.
#[component]
pub fn Workspace(
    /// The agent, as signing in found them.
    signed_in: SignedIn,
) -> impl IntoView {
    let console = use_console(signed_in);
    provide_context(console);
    view! {
        <div class="workspace">
            <Header />
            <div class="panes">
                <aside class="inbox-pane">
                    <Inbox />
                    <Team />
                </aside>
                <main class="conversation-pane">
                    <ConversationPane />
                </main>
            </div>
        </div>
    }
}
