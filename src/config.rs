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
}

impl WidgetConfig {
    /// Reads the settings from the host element's `data-channel` and `data-server`.
    pub fn from_host(host: &Element) -> Result<Self, String> {
        let read = |name: &str| {
            host.get_attribute(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| format!("the host element has no {name} attribute"))
        };
        Ok(Self {
            channel: read("data-channel")?,
            server: read("data-server")?.trim_end_matches('/').to_owned(),
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
            Ok(WidgetConfig {
                channel: "demo".into(),
                server: "https://chat.example".into()
            })
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
