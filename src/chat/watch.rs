//! [`Watch`]: a signal the chat writes and the components only read.
//!
//! Why not Leptos's own `ReadSignal`/`WriteSignal` pair: every signal type compiles its own
//! copy of Leptos's reading and writing code for each value type, so a pair beside the
//! `RwSignal`s the widget already uses cost the wasm about a kilobyte compressed. A `Watch`
//! wraps the chat's one `RwSignal` and passes only the reading methods through.

use leptos::prelude::*;

/// A read-only view of one of the chat's signals. Cheap to copy into closures.
pub struct Watch<T: 'static>(RwSignal<T>);

impl<T> Clone for Watch<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Watch<T> {}

impl<T: Send + Sync + 'static> Watch<T> {
    /// The read-only view of `signal`, which only the chat writes.
    pub(super) fn of(signal: RwSignal<T>) -> Self {
        Self(signal)
    }

    /// Reads the value by reference, and re-runs the calling effect or view when it changes.
    pub fn with<U>(&self, read: impl FnOnce(&T) -> U) -> U {
        self.0.with(read)
    }

    /// Reads the value by reference, without subscribing.
    pub fn with_untracked<U>(&self, read: impl FnOnce(&T) -> U) -> U {
        self.0.with_untracked(read)
    }

    /// Subscribes the calling effect or view without reading.
    pub fn track(&self) {
        self.0.track();
    }
}

impl<T: Clone + Send + Sync + 'static> Watch<T> {
    /// A copy of the value, re-running the calling effect or view when it changes.
    pub fn get(&self) -> T {
        self.0.get()
    }

    /// A copy of the value, without subscribing.
    pub fn get_untracked(&self) -> T {
        self.0.get_untracked()
    }
}
