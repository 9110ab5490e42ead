//! Integration tests: the real server on port 0 with a fresh SQLite file each, driven over
//! HTTP and WebSocket, on a clock the tests move. One binary for all of them.

mod agents;
mod bad_input;
mod fan_out;
mod helpers;
mod inbox;
mod live_mode;
mod messages;
mod persistent_mode;
mod routing;
