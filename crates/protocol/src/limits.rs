//! The bounds the server enforces and the clients respect, kept in one place so that a form
//! never lets through what the server will refuse.

/// The longest message, in characters (Unicode scalar values), after trimming.
pub const MESSAGE_MAX_CHARS: usize = 4000;

/// The longest *Regarding* reference, in characters.
pub const REGARDING_MAX_CHARS: usize = 200;

/// The most messages or sessions one page of a listing holds (`limit`).
pub const PAGE_MAX: u32 = 200;

/// A listing's page size when the request names none.
pub const PAGE_DEFAULT: u32 = 50;
