//! The two event streams. The routes only upgrade; each socket then runs apart, split into a
//! task that sends and a task that receives, and both stop when either ends.
//!
//! The first frame authenticates (browsers cannot set headers on a WebSocket, and tokens
//! stay out of URLs and logs). A visitor socket then replays every message after the
//! sequence number the client names, and from then on sends each new message exactly once
//! and in order, reading from the store whenever the hub signals, so a lagging receiver or a
//! race with the replay can never skip or repeat one.
//!
//! - [`visitor`]: a live visitor's session, or a verified visitor's open conversation.
//! - [`agent`]: every signed-in agent's stream, and their presence and typing.
//! - [`common`]: framing, the `auth` handshake and the task pair both sockets run.

pub mod agent;
pub mod common;
pub mod visitor;
