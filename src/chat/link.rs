//! The event stream's state as the visitor sees it (the client crate's [`Link`], shared with
//! the console; the widget words it in [`crate::i18n`]), and the wait between attempts of the
//! retries other than the connection loop's (the client crate's `keep_connected` waits its
//! own).

pub use palaver_client::Link;

/// 0.5 s doubling up to 30 s, each wait jittered down to half, so that many widgets
/// returning at once after an outage do not arrive together (the client crate's, shared
/// with the console).
pub(super) use palaver_client::backoff::backoff;
