//! The widget's own UI state that several components share, as a context type: it lives
//! below the app that provides it and the components that read it, so that neither imports
//! the other for it.

use leptos::prelude::*;

/// Whether the panel is open; provided once by the app, read by the launcher, the panel and
/// the host page's commands.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub open: RwSignal<bool>,
}
