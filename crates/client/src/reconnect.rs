//! Keeping an event stream up: [`keep_connected`] runs one connection after another, waiting
//! with [`Backoff`] between them and showing the [`Link`] state; [`WakeUp`] ends a wait early
//! when the browser comes back online or the page becomes visible again, since a laptop that
//! wakes should not sit out the rest of a 30-second wait.
//!
//! Catch-up is by sequence number: each connection names (or fetches after) the last `seq`
//! its [`crate::transcript::Transcript`] holds, and the transcript takes each message once
//! whichever way it arrives.

use std::{cell::RefCell, future::Future, rc::Rc, time::Duration};

use futures::{
    StreamExt,
    channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded},
    future::{Either, select},
};
use leptos::prelude::*;

use crate::{backoff::Backoff, link::Link};

/// How one connection ended, as [`keep_connected`] needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The stream dropped; connect again after a wait. `was_online` when it had been
    /// accepted: the waits then start over from the shortest.
    Dropped { was_online: bool },
    /// Stop for good (the credentials were refused, the session is over, another loop took
    /// over): the caller has already done what that means.
    Stop,
}

/// Runs `connect_once` again and again until it answers [`Ended::Stop`]: [`Link::Connecting`]
/// while a connection is being made (`connect_once` sets [`Link::Online`] once the server
/// accepts it), [`Link::Offline`] while waiting to try again. The wait is jittered backoff,
/// cut short by `pause`'s [`WakeUp`].
///
/// The loop ends, without touching `link` again, as soon as `still_current` says it is no
/// longer the current one (asked before each attempt and when one ends), or its [`WakeUp`]
/// started another loop or stopped: a leftover loop must not show "connecting" over the link
/// of the one that replaced it.
pub async fn keep_connected<F>(
    link: RwSignal<Link>,
    mut pause: Pause,
    still_current: impl Fn() -> bool,
    mut connect_once: impl FnMut() -> F,
) where
    F: Future<Output = Ended>,
{
    let mut waits = Backoff::default();
    while still_current() {
        link.set(Link::Connecting);
        match connect_once().await {
            Ended::Stop => return,
            Ended::Dropped { was_online: true } => waits.reset(),
            Ended::Dropped { was_online: false } => {}
        }
        if !still_current() {
            return;
        }
        link.set(Link::Offline);
        pause.sleep(waits.next_wait()).await;
        if pause.closed {
            return;
        }
    }
}

/// Wakes the waiting reconnection loop early. Cheap to clone; every clone wakes the loop
/// started last.
#[derive(Clone, Default)]
pub struct WakeUp {
    current: Rc<RefCell<Option<UnboundedSender<()>>>>,
}

impl WakeUp {
    /// A loop starts: the [`Pause`] it waits on. A loop started earlier is no longer woken.
    pub fn start(&self) -> Pause {
        let (wake, woken) = unbounded();
        *self.current.borrow_mut() = Some(wake);
        Pause {
            woken,
            closed: false,
        }
    }

    /// No loop runs any more: nothing to wake until the next [`WakeUp::start`].
    pub fn stop(&self) {
        self.current.borrow_mut().take();
    }

    /// Whether a loop was started and not stopped.
    pub fn is_running(&self) -> bool {
        self.current.borrow().is_some()
    }

    /// Ends the running loop's wait now, if it waits (or its next wait, if it is connecting).
    pub fn wake(&self) {
        if let Some(wake) = &*self.current.borrow() {
            // A closed channel means the loop has ended: nothing to wake.
            let _ = wake.unbounded_send(());
        }
    }

    /// Wakes the loop whenever the browser comes back online or the page becomes visible.
    /// The listeners go when the calling reactive owner is cleaned up.
    pub fn on_return(&self) {
        let online = {
            let wake = self.clone();
            window_event_listener_untyped("online", move |_| wake.wake())
        };
        let visible = {
            let wake = self.clone();
            window_event_listener_untyped("visibilitychange", move |_| {
                if document().visibility_state() == web_sys::VisibilityState::Visible {
                    wake.wake();
                }
            })
        };
        on_cleanup(move || {
            online.remove();
            visible.remove();
        });
    }
}

/// The loop's side of a [`WakeUp`].
pub struct Pause {
    woken: UnboundedReceiver<()>,
    /// Another loop took the wake-up, or none runs: this loop is over.
    closed: bool,
}

impl Pause {
    /// Waits `wait`, or less if woken. Answers whether it was woken. Once the [`WakeUp`]
    /// started another loop or stopped, the wait ends at once, since this loop is over.
    pub async fn sleep(&mut self, wait: Duration) -> bool {
        if self.closed {
            return false;
        }
        let timer = gloo_timers::future::sleep(wait);
        match select(Box::pin(timer), self.woken.next()).await {
            Either::Left(_) => false,
            Either::Right((Some(()), _)) => true,
            Either::Right((None, _)) => {
                self.closed = true;
                false
            }
        }
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use std::cell::Cell;

    use palaver_protocol::{
        Sender,
        frames::{VisitorEvent, VisitorFrame},
    };
    use serde_json::json;
    use uuid::Uuid;
    use wasm_bindgen_futures::spawn_local;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::{
        fetch::socket_url,
        socket,
        testing::{FakeServer, eventually, message},
        transcript::Transcript,
    };

    /// A visitor's stream as the widget keeps it: `auth` names the last `seq` held, messages
    /// go into `transcript`, an `error` event stops for good.
    fn follow(
        server: &FakeServer,
        link: RwSignal<Link>,
        transcript: RwSignal<Transcript>,
        pause: Pause,
    ) {
        let url = socket_url(server.origin(), "/api/v1/session/events");
        spawn_local(keep_connected(
            link,
            pause,
            || true,
            move || {
                let url = url.clone();
                async move {
                    let Some((frames, mut events)) =
                        socket::open::<VisitorFrame, VisitorEvent>(&url)
                    else {
                        return Ended::Dropped { was_online: false };
                    };
                    frames.send(&VisitorFrame::Auth {
                        token: "pv-catch-up".into(),
                        after_seq: transcript.with_untracked(Transcript::last_seq),
                        session_id: None,
                    });
                    let mut was_online = false;
                    while let Some(event) = events.next().await {
                        match event {
                            VisitorEvent::Ready { .. } => {
                                was_online = true;
                                link.set(Link::Online);
                            }
                            VisitorEvent::Message { message } => {
                                transcript.update(|transcript| {
                                    transcript.insert(message);
                                });
                            }
                            VisitorEvent::Error { .. } => return Ended::Stop,
                            _ => {}
                        }
                    }
                    Ended::Dropped { was_online }
                }
            },
        ));
    }

    fn bodies(transcript: RwSignal<Transcript>) -> Vec<String> {
        transcript.with_untracked(|transcript| {
            transcript
                .messages()
                .map(|message| message.body.clone())
                .collect()
        })
    }

    #[wasm_bindgen_test]
    async fn a_dropped_stream_reconnects_from_the_last_seq_held_and_keeps_each_message_once() {
        let server = FakeServer::install("http://127.0.0.1:29");
        let session = Uuid::new_v4();
        let link = RwSignal::new(Link::Connecting);
        let transcript = RwSignal::new(Transcript::of(session));
        let wake_up = WakeUp::default();
        follow(&server, link, transcript, wake_up.start());
        let auth = |after_seq: i64| json!({"type": "auth", "token": "pv-catch-up", "after_seq": after_seq});

        eventually("the stream authenticates from the start", || {
            server.sent_frames() == [auth(0)]
        })
        .await;
        assert_eq!(link.get_untracked(), Link::Connecting);
        server.push(&json!({"type": "ready", "session": null}));
        eventually("the link is online", || {
            link.get_untracked() == Link::Online
        })
        .await;
        for (seq, body) in [(1, "Hello"), (2, "Anyone there?")] {
            let message = message(session, seq, Sender::Visitor, body);
            server.push(&json!({"type": "message", "message": message}));
        }
        eventually("both messages arrive", || {
            transcript.with_untracked(Transcript::len) == 2
        })
        .await;

        server.close_socket();
        eventually("the link says it is offline", || {
            link.get_untracked() == Link::Offline
        })
        .await;
        eventually("a new stream names the last message held", || {
            server.sent_frames() == [auth(2)]
        })
        .await;
        assert_eq!(server.socket_urls().len(), 2);
        server.push(&json!({"type": "ready", "session": null}));
        // The server replays what came after 2; a replay of 2 itself changes nothing.
        for (seq, body) in [(2, "Anyone there?"), (3, "Missed while away")] {
            let message = message(session, seq, Sender::Visitor, body);
            server.push(&json!({"type": "message", "message": message}));
        }
        eventually("the missed message arrives", || {
            transcript.with_untracked(Transcript::len) == 3
        })
        .await;
        assert_eq!(
            bodies(transcript),
            ["Hello", "Anyone there?", "Missed while away"]
        );
        assert_eq!(link.get_untracked(), Link::Online);

        server
            .push(&json!({"type": "error", "error": {"error": "unauthorized", "message": "No."}}));
        eventually("the loop stops", || !server.is_connected()).await;
        gloo_timers::future::sleep(Duration::from_millis(700)).await;
        assert_eq!(server.socket_urls().len(), 2, "no connection after a stop");
    }

    #[wasm_bindgen_test]
    async fn a_server_that_stays_down_is_tried_again_with_growing_waits_and_at_once_when_woken() {
        let server = FakeServer::install("http://127.0.0.1:30");
        server.refuse_sockets(true);
        let link = RwSignal::new(Link::Connecting);
        let transcript = RwSignal::new(Transcript::of(Uuid::new_v4()));
        let wake_up = WakeUp::default();
        follow(&server, link, transcript, wake_up.start());
        eventually("the link is offline", || {
            link.get_untracked() == Link::Offline
        })
        .await;
        // Waits of at most 0.5 s, then 1 s, then 2 s: three attempts within 2 s at most.
        eventually("it tries again", || server.socket_urls().len() >= 3).await;
        let tried = server.socket_urls().len();
        assert!(tried <= 4, "{tried} attempts: the waits grow");

        server.refuse_sockets(false);
        wake_up.wake();
        eventually("woken, it connects at once", || server.is_connected()).await;
        server.push(&json!({"type": "ready", "session": null}));
        eventually("the link is online", || {
            link.get_untracked() == Link::Online
        })
        .await;
        server
            .push(&json!({"type": "error", "error": {"error": "unauthorized", "message": "No."}}));
    }

    /// A loop whose attempts all fail at once; `done` when it has ended.
    fn failing(
        link: RwSignal<Link>,
        pause: Pause,
        still_current: impl Fn() -> bool + 'static,
    ) -> (Rc<Cell<u32>>, Rc<Cell<bool>>) {
        let attempts = Rc::new(Cell::new(0));
        let done = Rc::new(Cell::new(false));
        let (counted, ended) = (attempts.clone(), done.clone());
        spawn_local(async move {
            keep_connected(link, pause, still_current, move || {
                counted.set(counted.get() + 1);
                async { Ended::Dropped { was_online: false } }
            })
            .await;
            ended.set(true);
        });
        (attempts, done)
    }

    #[wasm_bindgen_test]
    async fn a_loop_no_longer_current_ends_without_showing_connecting_over_its_successor() {
        let link = RwSignal::new(Link::Connecting);
        let current = Rc::new(Cell::new(true));
        let wake_up = WakeUp::default();
        let still = current.clone();
        let (attempts, done) = failing(link, wake_up.start(), move || still.get());
        eventually("the link is offline", || {
            link.get_untracked() == Link::Offline
        })
        .await;
        current.set(false);
        // The loop that replaced it is online.
        link.set(Link::Online);
        wake_up.wake();
        eventually("the loop ends", || done.get()).await;
        assert_eq!(attempts.get(), 1);
        assert_eq!(link.get_untracked(), Link::Online);

        // A wake-up that starts another loop ends the first one's wait at once.
        let link = RwSignal::new(Link::Connecting);
        let (attempts, done) = failing(link, wake_up.start(), || true);
        eventually("the link is offline", || {
            link.get_untracked() == Link::Offline
        })
        .await;
        let _next = wake_up.start();
        gloo_timers::future::sleep(Duration::from_millis(50)).await;
        assert!(done.get(), "the first wait is at least 0.25 s");
        assert_eq!(attempts.get(), 1);
        assert_eq!(link.get_untracked(), Link::Offline);
    }

    #[wasm_bindgen_test]
    async fn a_wait_ends_when_the_browser_comes_back_online_or_the_page_shows_again() {
        let wake_up = WakeUp::default();
        let mut pause = wake_up.start();
        assert!(wake_up.is_running());
        wake_up.on_return();
        let online = web_sys::Event::new("online").expect("an event");
        let fire = async {
            gloo_timers::future::sleep(Duration::from_millis(50)).await;
            window().dispatch_event(&online).expect("dispatch");
        };
        let (woken, ()) = futures::join!(pause.sleep(Duration::from_secs(30)), fire);
        assert!(woken, "the online event wakes the loop");

        // Headless pages count as visible.
        let shown = web_sys::Event::new("visibilitychange").expect("an event");
        let fire = async {
            gloo_timers::future::sleep(Duration::from_millis(50)).await;
            window().dispatch_event(&shown).expect("dispatch");
        };
        let (woken, ()) = futures::join!(pause.sleep(Duration::from_secs(30)), fire);
        assert!(woken, "the page showing again wakes the loop");

        assert!(
            !pause.sleep(Duration::from_millis(10)).await,
            "a timer ends it otherwise"
        );
        wake_up.stop();
        assert!(!wake_up.is_running());
        wake_up.wake();
        assert!(
            !pause.sleep(Duration::from_millis(10)).await,
            "a stopped wake-up wakes nothing"
        );
    }
}
