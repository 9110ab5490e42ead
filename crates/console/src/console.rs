//! `use_console()`: the signed-in console as signals and actions. It loads the team, the
//! channels and the inbox, opens conversations, replies and acts on sessions, and keeps
//! everything current from the agent event stream. [`Console`] and its start live here; its
//! work is split by concern, one file each, all `impl Console`:
//! - `team`: the agent's status and availability, the other agents, the channels' names;
//! - `inbox`: the live inbox for the filters, and what the agent has read;
//! - `view`: [`SessionView`], a conversation on screen and how it loads and catches up;
//! - `actions`: join, set waiting, end, Regarding; `replies`: sending with retries;
//! - `typing`: the agent's and the visitor's typing; `history`: Chat History;
//! - `stream`: the event stream kept connected; `events`: what its sessions and messages
//!   change.
//!
//! The server is the truth and the stream an optimisation: a message is kept once by its
//! sequence number however often it arrives, a reply is retried with the same client id until
//! the server confirms it, and after a reconnect the inbox is loaded again and the open
//! conversation catches up on what came after the last message held.

use std::{collections::HashMap, time::Duration};

use leptos::prelude::*;
use palaver_client::{Link, reconnect::WakeUp, socket::FrameSender};
use palaver_protocol::{AgentSession, AgentStatus, ChannelInfo, frames::AgentFrame};
use uuid::Uuid;

use crate::{
    api::{Api, ApiFailure},
    auth::{Auth, SignedIn},
    drafts::Drafts,
    inbox::{Filters, InboxChange},
    route::Route,
    storage,
    tasks::Tasks,
    time,
    unread::Seen,
};

mod actions;
mod events;
mod history;
mod inbox;
mod replies;
mod stream;
mod team;
mod typing;
mod view;

pub use history::History;
pub use replies::Delivery;
pub use view::SessionView;

/// The signed-in console. Cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Console {
    /// The signed-in agent, with their capacity and load.
    pub me: RwSignal<AgentStatus>,
    /// Whether the agent takes new chats: their choice, kept in this browser.
    pub available: RwSignal<bool>,
    pub link: RwSignal<Link>,
    pub agents: RwSignal<Vec<AgentStatus>>,
    pub channels: RwSignal<Vec<ChannelInfo>>,
    pub filters: RwSignal<Filters>,
    /// The inbox as the filters show it, newest first.
    pub rows: RwSignal<Vec<AgentSession>>,
    pub inbox_loading: RwSignal<bool>,
    pub inbox_error: RwSignal<Option<String>>,
    pub seen: RwSignal<Seen>,
    /// The open conversation.
    pub main: SessionView,
    pub history: History,
    /// Replies on their way, by session.
    pub deliveries: RwSignal<HashMap<Uuid, Delivery>>,
    pub auth: Auth,
    pub drafts: Drafts,
    pub route: Route,
    inner: StoredValue<Inner, LocalStorage>,
}

/// The non-reactive part.
struct Inner {
    api: Api,
    tasks: Tasks,
    expires_at: chrono::DateTime<chrono::Utc>,
    /// Writes frames to the open event stream.
    socket: Option<FrameSender<AgentFrame>>,
    /// Wakes the reconnection loop early.
    wake_up: WakeUp,
    /// Bumped per inbox load, so that only the latest one's answer is taken.
    inbox_generation: u32,
    /// Live changes that arrived while the inbox was loading, replayed on its answer, which
    /// may predate them.
    inbox_backlog: Option<Vec<InboxChange>>,
    /// The agent is typing in this session; the last "typing" went out at `sent_at` (ms).
    typing: Option<(Uuid, f64)>,
    typing_generation: u32,
}

/// Starts the console for a signed-in agent; call once, in the component that shows it. Its
/// work stops when that component goes.
pub fn use_console(signed_in: SignedIn) -> Console {
    let tasks = Tasks::tied_to_owner();
    let api = expect_context::<Api>().with_token(&signed_in.token.token);
    let me = signed_in.status;
    let console = Console {
        available: RwSignal::new(storage::read(&storage::availability_name(me.id)).unwrap_or(true)),
        seen: RwSignal::new(Seen::load(me.id)),
        me: RwSignal::new(me),
        link: RwSignal::new(Link::Connecting),
        agents: RwSignal::new(Vec::new()),
        channels: RwSignal::new(Vec::new()),
        filters: RwSignal::new(Filters::default()),
        rows: RwSignal::new(Vec::new()),
        inbox_loading: RwSignal::new(true),
        inbox_error: RwSignal::new(None),
        main: SessionView::new(),
        history: History {
            open: RwSignal::new(false),
            contact: RwSignal::new(None),
            rows: RwSignal::new(None),
            error: RwSignal::new(None),
            view: SessionView::new(),
        },
        deliveries: RwSignal::new(HashMap::new()),
        auth: expect_context(),
        drafts: expect_context(),
        route: expect_context(),
        inner: StoredValue::new_local(Inner {
            api,
            tasks,
            expires_at: signed_in.token.expires_at,
            socket: None,
            wake_up: WakeUp::default(),
            inbox_generation: 0,
            inbox_backlog: None,
            typing: None,
            typing_generation: 0,
        }),
    };
    console.load_team();
    Effect::new(move |_| {
        console.filters.track();
        console.load_inbox();
    });
    Effect::new(move |_| {
        let open = console.route.open.get();
        untrack(|| console.open(open));
    });
    console.connect();
    console.spawn(console.watch_expiry());
    console
}

impl Console {
    fn api(&self) -> Api {
        self.inner.with_value(|inner| inner.api.clone())
    }

    /// Runs a task for as long as the agent stays signed in.
    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.inner.with_value(|inner| inner.tasks.spawn(task));
    }

    pub fn me_id(&self) -> Uuid {
        self.me.with_untracked(|me| me.id)
    }

    /// A failed call: a refused token ends the sign-in; the rest is for the caller to say.
    fn failed(&self, failure: &ApiFailure) {
        self.auth.check_failure(failure);
    }

    /// Ends the sign-in when its time is up, even with no call to find out.
    async fn watch_expiry(self) {
        let expires_at = self.inner.with_value(|inner| inner.expires_at);
        loop {
            let left = (expires_at - time::now()).num_milliseconds();
            if left <= 0 {
                self.auth.expire();
                return;
            }
            // Checked at least every minute: timers stall while a laptop sleeps.
            let wait = u64::try_from(left.min(60_000)).unwrap_or(0);
            gloo_timers::future::sleep(Duration::from_millis(wait)).await;
        }
    }
}
