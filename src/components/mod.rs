//! The widget's components, one per file.

pub mod launcher;
pub mod panel;
