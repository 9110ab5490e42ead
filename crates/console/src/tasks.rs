//! [`Tasks`]: background work that ends with the component that started it. When a component
//! goes (the agent signs out, the app is unmounted), its signals are disposed; a request that
//! answers afterwards must not touch them, so every task is dropped at that moment instead of
//! running on.

use std::{future::Future, pin::pin};

use futures::{
    FutureExt,
    channel::oneshot,
    future::{Shared, select},
};
use leptos::{prelude::on_cleanup, task::spawn_local};

/// Spawns tasks tied to the current reactive owner. Cheap to clone.
#[derive(Clone)]
pub struct Tasks {
    /// Completes when the owner is cleaned up: its sender lives in the cleanup.
    stopped: Shared<oneshot::Receiver<()>>,
}

impl Tasks {
    /// Ties the tasks to the owner of the calling component.
    pub fn tied_to_owner() -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        on_cleanup(move || drop(stop));
        Self {
            stopped: stopped.shared(),
        }
    }

    /// Runs `task` until it finishes or the owner goes, whichever comes first.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let stopped = self.stopped.clone();
        spawn_local(async move {
            // The stop signal is polled first, so a task woken in the same turn as the
            // cleanup never runs again.
            select(stopped, pin!(task)).await;
        });
    }
}
