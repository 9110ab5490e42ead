//! Who takes which chat. An agent is available while a console of theirs is connected and
//! they said they take new chats ([`presence`]). Every session nobody holds (a new live chat,
//! a persistent conversation started or brought back from waiting) waits in one [`queue`],
//! in the order it joined, whatever its channel, since every agent serves every channel. A
//! routing [`pass`] runs whenever a session joins the queue or an agent gains room.
//! [`status`] is each agent's capacity, load and availability.

pub mod pass;
pub mod presence;
pub mod queue;
pub mod status;
