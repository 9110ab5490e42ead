//! The console's corner of localStorage. Every key starts with `palaver-console:`, since the
//! console shares its origin (and so its storage) with the server's other pages.

use gloo_storage::{LocalStorage, Storage};
use serde::{Serialize, de::DeserializeOwned};

const PREFIX: &str = "palaver-console:";

/// The full key for `name`.
fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

/// The value kept under `name`; `None` when absent or unreadable (written by another version).
pub fn read<T: DeserializeOwned>(name: &str) -> Option<T> {
    LocalStorage::get(key(name)).ok()
}

/// Keeps `value` under `name`. Storage can be full or disabled (private modes): the console
/// still works for this page view, it only forgets on reload.
pub fn write<T: Serialize>(name: &str, value: &T) {
    if let Err(error) = LocalStorage::set(key(name), value) {
        leptos::logging::warn!("palaver console: could not keep {name}: {error}");
    }
}

/// The name under which an agent's last Available/Away choice is kept.
pub fn availability_name(agent: uuid::Uuid) -> String {
    format!("available:{agent}")
}

pub fn delete(name: &str) {
    LocalStorage::delete(key(name));
}
