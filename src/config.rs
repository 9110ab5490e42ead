//! The widget's settings, as the loader hands them over: `data-*` attributes that it copies
//! from the embed tag onto the host element. A new setting is one more attribute here and one
//! more line in `loader/widget.js`.

use web_sys::Element;

/// What the widget needs to know about where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetConfig {
    /// The channel (a widget configuration on the server) from the tag's `data-channel`.
    pub channel: String,
    /// The server's base URL, without a trailing slash: the tag's `data-server`, or else the
    /// origin the loader script was served from.
    pub server: String,
    /// The brand colour (`data-color`), any CSS colour; the default blue when absent.
    pub color: Option<String>,
    /// Which corner the widget sits in (`data-position`).
    pub position: Position,
    /// The language of the widget's own words (`data-language`).
    pub language: Language,
    /// A persistent channel's visitor identity, the JWT the host page signed
    /// (`data-identity-token`); `Palaver.identify` and an identity provider give later ones.
    pub identity_token: Option<String>,
}

/// The corner of the page the widget sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Position {
    #[default]
    Right,
    Left,
}

/// The languages the widget speaks; see [`crate::i18n`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    English,
    French,
}

impl Language {
    /// The BCP 47 tag, for the browser's date formatting.
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::French => "fr",
        }
    }
}

impl WidgetConfig {
    /// A configuration with the defaults for everything but channel and server.
    pub fn new(channel: impl Into<String>, server: impl Into<String>) -> Self {
        Self {
            channel: channel.into(),
            server: server.into(),
            color: None,
            position: Position::Right,
            language: Language::English,
            identity_token: None,
        }
    }

    /// Reads the settings from the host element's `data-*` attributes.
    pub fn from_host(host: &Element) -> Result<Self, String> {
        let optional = |name: &str| {
            host.get_attribute(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let read = |name: &str| {
            optional(name).ok_or_else(|| format!("the host element has no {name} attribute"))
        };
        Ok(Self {
            channel: read("data-channel")?,
            server: read("data-server")?.trim_end_matches('/').to_owned(),
            // The value lands in a CSS custom property; refuse anything that could end the
            // declaration and start another.
            color: optional("data-color")
                .filter(|color| !color.contains([';', '{', '}', '<', '>', '"', '\\'])),
            position: match optional("data-position").as_deref() {
                Some("left") => Position::Left,
                _ => Position::Right,
            },
            language: match optional("data-language").as_deref() {
                Some(lang) if lang.starts_with("fr") => Language::French,
                _ => Language::English,
            },
            identity_token: optional("data-identity-token"),
        })
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::WidgetConfig;

    fn host_with(attributes: &[(&str, &str)]) -> web_sys::Element {
        let host = leptos::prelude::document()
            .create_element("div")
            .expect("create an element");
        for (name, value) in attributes {
            host.set_attribute(name, value).expect("set an attribute");
        }
        host
    }

    #[wasm_bindgen_test]
    fn reads_the_channel_and_the_server_without_its_trailing_slash() {
        let host = host_with(&[
            ("data-channel", "demo"),
            ("data-server", "https://chat.example/"),
        ]);
        assert_eq!(
            WidgetConfig::from_host(&host),
            Ok(WidgetConfig::new("demo", "https://chat.example"))
        );
    }

    #[wasm_bindgen_test]
    fn reads_colour_position_and_language_and_drops_a_colour_that_could_inject_css() {
        let host = host_with(&[
            ("data-channel", "demo"),
            ("data-server", "https://chat.example"),
            ("data-color", "#0a7d55"),
            ("data-position", "left"),
            ("data-language", "fr-CA"),
        ]);
        let config = WidgetConfig::from_host(&host).expect("valid");
        assert_eq!(config.color.as_deref(), Some("#0a7d55"));
        assert_eq!(config.position, super::Position::Left);
        assert_eq!(config.language, super::Language::French);

        let host = host_with(&[
            ("data-channel", "demo"),
            ("data-server", "https://chat.example"),
            ("data-color", "red; background: url(x)"),
        ]);
        assert_eq!(WidgetConfig::from_host(&host).expect("valid").color, None);
    }

    #[wasm_bindgen_test]
    fn reads_the_identity_token_a_signed_in_page_passes() {
        let host = host_with(&[
            ("data-channel", "members"),
            ("data-server", "https://chat.example"),
            ("data-identity-token", " eyJhbGciOiJIUzI1NiJ9.e30.sig "),
        ]);
        assert_eq!(
            WidgetConfig::from_host(&host)
                .expect("valid")
                .identity_token
                .as_deref(),
            Some("eyJhbGciOiJIUzI1NiJ9.e30.sig")
        );
        let host = host_with(&[
            ("data-channel", "members"),
            ("data-server", "https://chat.example"),
        ]);
        assert_eq!(
            WidgetConfig::from_host(&host)
                .expect("valid")
                .identity_token,
            None
        );
    }

    #[wasm_bindgen_test]
    fn refuses_a_host_without_a_channel() {
        let host = host_with(&[
            ("data-channel", " "),
            ("data-server", "https://chat.example"),
        ]);
        assert!(WidgetConfig::from_host(&host).is_err());
    }
}
