//! The widget's components, one per file.

pub mod composer;
pub mod launcher;
pub mod message_list;
pub mod notices;
pub mod panel;
pub mod prechat_form;
pub mod sign_in;
