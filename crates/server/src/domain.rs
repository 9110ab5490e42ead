//! What the server accepts from people, parsed once at the boundary: a value of these types
//! has passed its checks, and the rest of the server trusts it.
//!
//! No text field may carry markup. Everything is rendered as text anyway; refusing tags at
//! the door also protects whatever else later shows the text (exports, e-mail transcripts).

use phonenumber::{Mode, country};

/// The visitor's name: 1 to 100 characters of printable text without markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Please enter your name.".into());
        }
        if name.chars().count() > 100 {
            return Err("A name can be at most 100 characters.".into());
        }
        if name.chars().any(char::is_control) {
            return Err("A name can't contain control characters.".into());
        }
        reject_markup(name, "A name")?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The user id a persistent channel's site signs (`sub`): 1 to 255 characters of printable
/// text without markup, kept exactly as signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() || raw.chars().count() > 255 {
            return Err("A user id must be 1 to 255 characters.".into());
        }
        if raw.chars().any(char::is_control) {
            return Err("A user id can't contain control characters.".into());
        }
        reject_markup(raw, "A user id")?;
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A contact number, normalized to E.164 (`+442079460958`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses any common notation; numbers without a country code are read in `region`.
    pub fn parse(raw: &str, region: Option<&str>) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Please enter your contact number.".into());
        }
        let region = region.and_then(|region| region.parse::<country::Id>().ok());
        let invalid = || {
            if region.is_some() {
                "That doesn't look like a valid phone number.".to_owned()
            } else {
                "Please enter the number with its country code, like +44 20 7946 0958.".to_owned()
            }
        };
        let number = phonenumber::parse(region, raw).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, syntactically valid, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.len() > 254 || !email_address::EmailAddress::is_valid(email) {
            return Err("That doesn't look like a valid email address.".into());
        }
        reject_markup(email, "An email address")?;
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a message: 1 to 4,000 characters, line breaks allowed, no markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let body = raw.trim();
        if body.is_empty() {
            return Err("A message can't be empty.".into());
        }
        if body.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "A message can be at most {} characters.",
                Self::MAX_CHARS
            ));
        }
        if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err("A message can't contain control characters.".into());
        }
        reject_markup(body, "A message")?;
        Ok(Self(body.to_owned()))
    }

    /// Text the server itself writes (system messages).
    pub fn system(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The sender's own id for a message: 1 to 64 letters, digits, `-` or `_` (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err("client_msg_id must be 1 to 64 letters, digits, '-' or '_'.".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reference to an associated record (an order, a ticket): 1 to 200 characters, no markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regarding(String);

impl Regarding {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let regarding = raw.trim();
        if regarding.is_empty() || regarding.chars().count() > 200 {
            return Err("Regarding must be 1 to 200 characters.".into());
        }
        if regarding.chars().any(char::is_control) {
            return Err("Regarding can't contain control characters.".into());
        }
        reject_markup(regarding, "Regarding")?;
        Ok(Self(regarding.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Refuses anything a browser would read as a tag, comment or character reference
/// (`<b`, `</`, `<!`, `<?`, `&lt;`, `&#60`), while `a < b`, `<3` and `R&D` stay allowed.
fn reject_markup(text: &str, what: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let tag = bytes.windows(2).any(|pair| {
        pair[0] == b'<' && (pair[1].is_ascii_alphabetic() || matches!(pair[1], b'/' | b'!' | b'?'))
    });
    let reference = text.match_indices('&').any(|(at, _)| {
        let rest = &text.as_bytes()[at + 1..];
        match rest {
            [b'#', next, ..] => next.is_ascii_digit() || matches!(next, b'x' | b'X'),
            _ => {
                let name = rest
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count();
                name >= 2 && rest[0].is_ascii_alphabetic() && rest.get(name) == Some(&b';')
            }
        }
    });
    if tag || reference {
        return Err(format!(
            "{what} can't contain HTML such as <b> or &lt;; please write plain text."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").map(|n| n.0),
            Ok("Ada Lovelace".into())
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"a".repeat(101)).is_err());
        assert!(PersonName::parse("Zoë Ødegård-Ñúñez").is_ok());
        assert!(PersonName::parse("Ada\u{0}").is_err());
    }

    #[test]
    fn markup_is_refused_in_every_field_but_plain_symbols_pass() {
        assert!(PersonName::parse("<script>alert(1)</script>").is_err());
        assert!(PersonName::parse("<img src=x onerror=alert(1)>").is_err());
        assert!(MessageBody::parse("hi </b>").is_err());
        assert!(MessageBody::parse("<!-- x -->").is_err());
        assert!(MessageBody::parse("&lt;script&gt;").is_err());
        assert!(MessageBody::parse("&#60script").is_err());
        assert!(MessageBody::parse("&#x3c;script").is_err());
        assert!(Regarding::parse("<a href=x>").is_err());
        assert!(MessageBody::parse("a < b and b > c, I <3 it, R&D; 5 <= 6").is_ok());
    }

    #[test]
    fn phone_numbers_normalize_to_e164() {
        let gb = |raw| PhoneNumber::parse(raw, Some("GB")).map(|p| p.0);
        assert_eq!(gb("020 7946 0958"), Ok("+442079460958".into()));
        assert_eq!(gb("+44 (0)20 7946-0958"), Ok("+442079460958".into()));
        assert_eq!(gb("+1 415 555 2671"), Ok("+14155552671".into()));
        assert!(gb("12").is_err());
        assert!(gb("not a number").is_err());
        assert!(gb("").is_err());
        assert!(PhoneNumber::parse("020 7946 0958", None).is_err());
        assert_eq!(
            PhoneNumber::parse("+442079460958", None).map(|p| p.0),
            Ok("+442079460958".into())
        );
    }

    #[test]
    fn emails_are_checked() {
        assert!(Email::parse("ada@example.com").is_ok());
        assert!(Email::parse("ada@").is_err());
        assert!(Email::parse("not an email").is_err());
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn message_bodies_keep_line_breaks_and_are_bounded() {
        assert_eq!(
            MessageBody::parse(" line one\nline two ").map(|b| b.0),
            Ok("line one\nline two".into())
        );
        assert!(MessageBody::parse(" \n ").is_err());
        assert!(MessageBody::parse(&"x".repeat(MessageBody::MAX_CHARS + 1)).is_err());
        assert!(MessageBody::parse(&"é".repeat(MessageBody::MAX_CHARS)).is_ok());
        assert!(MessageBody::parse("bell\u{7}").is_err());
    }

    #[test]
    fn client_message_ids_are_short_tokens() {
        assert!(ClientMsgId::parse("0b6f9a8e-5d0c-4f57-9d43-3f5e1f2b7a10").is_ok());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse(&"a".repeat(65)).is_err());
        assert!(ClientMsgId::parse("a b").is_err());
    }
}
