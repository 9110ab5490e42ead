//! The widget's components, one per file.

pub mod composer;
pub mod launcher;
pub mod message_list;
pub mod panel;
pub mod prechat_form;
