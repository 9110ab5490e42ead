//! The chat rules of PRODUCT.md, between the HTTP layer and the store, one file per area.
//! Each returns [`error::ChatError`]; nothing here knows about HTTP. Every change is written
//! to the store first and announced to the hub after.
//!
//! - [`live`]: live mode rule 1, an anonymous visitor starts a chat with their details.
//! - [`identity`]: persistent mode rule 1, a signed identity token exchanged for access.
//! - [`conversation`]: a verified visitor's one open conversation and their messages into it.
//! - [`messages`]: sending into an open session, idempotent by the client's id.
//! - [`lifecycle`]: ending, waiting, deadlines that close sessions, and *Regarding*.
//! - [`assign`]: agents joining chats, by hand or through a routing pass.
//! - [`access`]: what a visitor's or agent's bearer token opens.
//! - [`agents`]: creating agents, signing in and out.
//! - [`view`] and [`announce`]: how a session looks now, and telling everyone it changed.
//! - [`error`]: why a rule refused.

pub mod access;
pub mod agents;
pub mod announce;
pub mod assign;
pub mod conversation;
pub mod error;
pub mod identity;
pub mod lifecycle;
pub mod live;
pub mod messages;
pub mod view;
