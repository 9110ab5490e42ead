//! Verified identity for persistent channels: the host site signs a short-lived JWT (`sub`,
//! `exp`, optionally `name`, `email`, `phone`) with the channel's key, and the widget hands it
//! over. Signatures are checked by the `jsonwebtoken` crate; this module only chooses what is
//! accepted: exactly the channel's one algorithm (so no `alg: none` and no algorithm
//! confusion), its issuer and audience when configured, and `exp`/`nbf` against the server's
//! injected clock rather than the system's.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation, errors::ErrorKind};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Clock skew tolerated between the host site and this server, for `exp` and `nbf`.
const LEEWAY_SECONDS: i64 = 30;

/// The smallest HS256 secret accepted: the hash's own size, as RFC 7518 §3.2 asks.
const MIN_SECRET_BYTES: usize = 32;

/// A channel's identity key, from `[channel.identity]` in the channels file.
#[derive(Clone, Deserialize)]
#[serde(try_from = "RawIdentityKey")]
pub struct IdentityKey {
    algorithm: Algorithm,
    key: DecodingKey,
    /// The shared secret of an HS256 key, kept so the demo can sign its own visitors in.
    secret: Option<Vec<u8>>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl fmt::Debug for IdentityKey {
    // Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKey")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentityKey {
    /// `HS256`, `RS256` or `ES256`.
    algorithm: String,
    /// The shared secret, for HS256.
    secret: Option<String>,
    /// The site's public key in PEM, for RS256 and ES256.
    public_key: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl TryFrom<RawIdentityKey> for IdentityKey {
    type Error = String;

    fn try_from(raw: RawIdentityKey) -> Result<Self, String> {
        let (algorithm, key, secret) = match (raw.algorithm.as_str(), raw.secret, raw.public_key) {
            ("HS256", Some(secret), None) => {
                if secret.len() < MIN_SECRET_BYTES {
                    return Err(format!(
                        "an HS256 secret must be at least {MIN_SECRET_BYTES} bytes long"
                    ));
                }
                let bytes = secret.into_bytes();
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(&bytes),
                    Some(bytes),
                )
            }
            ("RS256", None, Some(pem)) => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|error| format!("public_key is not an RSA public key: {error}"))?,
                None,
            ),
            ("ES256", None, Some(pem)) => (
                Algorithm::ES256,
                DecodingKey::from_ec_pem(pem.as_bytes())
                    .map_err(|error| format!("public_key is not an EC public key: {error}"))?,
                None,
            ),
            ("HS256", ..) => return Err("HS256 takes a `secret` and no `public_key`".into()),
            ("RS256" | "ES256", ..) => {
                return Err(format!(
                    "{} takes a PEM `public_key` and no `secret`",
                    raw.algorithm
                ));
            }
            (other, ..) => {
                return Err(format!(
                    "identity algorithm {other:?} is not one of HS256, RS256, ES256"
                ));
            }
        };
        Ok(Self {
            algorithm,
            key,
            secret,
            issuer: raw.issuer,
            audience: raw.audience,
        })
    }
}

/// What a verified token says about the visitor; the values are checked by the caller like
/// anything else a visitor sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Required; optional here only so that its absence is reported as such.
    #[serde(default)]
    pub sub: Option<String>,
    /// Seconds since the epoch (JWT allows fractions); required like `sub`.
    #[serde(default)]
    pub exp: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Written when signing; on reading, `jsonwebtoken` has already checked `iss` and `aud`
    /// (which may be a list), so they are not read again.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

impl Claims {
    /// When the token stops being valid.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        seconds(self.exp?)
    }
}

fn seconds(value: f64) -> Option<DateTime<Utc>> {
    if !value.is_finite() {
        return None;
    }
    DateTime::from_timestamp_millis((value * 1000.0) as i64)
}

/// Why a token was refused, in words the site's developer can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Past its `exp`: the widget should ask the site for a fresh token.
    Expired,
    /// Anything else.
    Invalid(String),
}

impl IdentityKey {
    /// A fresh random HS256 key (the demo's).
    pub fn random_hs256() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = URL_SAFE_NO_PAD.encode(bytes).into_bytes();
        Self {
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(&secret),
            secret: Some(secret),
            issuer: None,
            audience: None,
        }
    }

    /// Signs claims with the shared secret, as the channel's issuer and for its audience;
    /// `None` for public-key channels, whose private key only the site holds. The demo uses
    /// this to play the host site.
    pub fn sign(&self, claims: Claims) -> Option<String> {
        let secret = self.secret.as_ref()?;
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            ..claims
        };
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .ok()
    }

    /// Checks the signature, algorithm, issuer, audience and validity period at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, Refusal> {
        let invalid = |message: String| Refusal::Invalid(message);
        let expected = format!("{:?}", self.algorithm);
        if let Some(alg) = header_algorithm(token)
            && alg != expected
        {
            return Err(invalid(if alg.eq_ignore_ascii_case("none") {
                "Unsigned identity tokens (alg \"none\") are refused.".into()
            } else {
                format!(
                    "The identity token is signed with {alg}; this chat accepts only {expected}."
                )
            }));
        }
        let mut validation = Validation::new(self.algorithm);
        // Time is checked below against the injected clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &validation)
            .map_err(|error| invalid(describe(error.kind(), &expected)))?
            .claims;
        let leeway = chrono::Duration::seconds(LEEWAY_SECONDS);
        let expires_at = claims
            .expires_at()
            .ok_or_else(|| invalid("The identity token's exp is not a time.".into()))?;
        if expires_at + leeway <= now {
            return Err(Refusal::Expired);
        }
        if let Some(nbf) = claims.nbf {
            let not_before = seconds(nbf)
                .ok_or_else(|| invalid("The identity token's nbf is not a time.".into()))?;
            if not_before - leeway > now {
                return Err(invalid(format!(
                    "The identity token is not valid until {} UTC (nbf).",
                    not_before.format("%Y-%m-%d %H:%M:%S")
                )));
            }
        }
        Ok(claims)
    }
}

/// The `alg` a token's header names, read without trusting anything else in it, so that a
/// refusal can say which algorithm was offered (the crate cannot even parse `none`).
fn header_algorithm(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Header {
        alg: String,
    }
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next()?).ok()?;
    serde_json::from_slice::<Header>(&header)
        .ok()
        .map(|header| header.alg)
}

fn describe(kind: &ErrorKind, expected: &str) -> String {
    match kind {
        ErrorKind::InvalidSignature => {
            "The identity token's signature does not match this chat's key.".into()
        }
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            format!("The identity token must be signed with {expected}.")
        }
        ErrorKind::MissingRequiredClaim(claim) => {
            format!("The identity token has no {claim} claim.")
        }
        ErrorKind::InvalidIssuer => {
            "The identity token's issuer (iss) is not the one this chat trusts.".into()
        }
        ErrorKind::InvalidAudience => {
            "The identity token is meant for another audience (aud).".into()
        }
        _ => "The identity token is not a well-formed signed JWT.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(toml_text: &str) -> Result<IdentityKey, toml::de::Error> {
        #[derive(Deserialize)]
        struct Wrap {
            identity: IdentityKey,
        }
        toml::from_str::<Wrap>(toml_text).map(|wrap| wrap.identity)
    }

    #[test]
    fn a_short_secret_or_a_mismatched_key_is_refused_at_load() {
        assert!(key("[identity]\nalgorithm = \"HS256\"\nsecret = \"short\"").is_err());
        assert!(
            key("[identity]\nalgorithm = \"RS256\"\nsecret = \"0123456789abcdef0123456789abcdef\"")
                .is_err()
        );
        assert!(key("[identity]\nalgorithm = \"none\"\nsecret = \"x\"").is_err());
        assert!(key("[identity]\nalgorithm = \"ES256\"\npublic_key = \"not a pem\"").is_err());
        assert!(
            key("[identity]\nalgorithm = \"HS256\"\nsecret = \"0123456789abcdef0123456789abcdef\"")
                .is_ok()
        );
    }

    #[test]
    fn an_audience_list_that_names_the_channels_audience_is_accepted() {
        let secret = "0123456789abcdef0123456789abcdef";
        let key = key(&format!(
            "[identity]\nalgorithm = \"HS256\"\nsecret = \"{secret}\"\naudience = \"palaver\""
        ))
        .expect("valid");
        let now = Utc::now();
        let sign = |aud: serde_json::Value| {
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::HS256),
                &serde_json::json!({"sub": "u1", "exp": now.timestamp() + 60, "aud": aud}),
                &EncodingKey::from_secret(secret.as_bytes()),
            )
            .expect("signs")
        };
        let claims = key
            .verify(&sign(serde_json::json!(["crm", "palaver"])), now)
            .expect("accepted");
        assert_eq!(claims.sub.as_deref(), Some("u1"));
        assert!(key.verify(&sign(serde_json::json!(["crm"])), now).is_err());
    }

    #[test]
    fn the_debug_form_never_shows_the_secret() {
        let secret = "0123456789abcdef0123456789abcdef";
        let key = key(&format!(
            "[identity]\nalgorithm = \"HS256\"\nsecret = \"{secret}\""
        ))
        .expect("valid");
        assert!(!format!("{key:?}").contains(secret));
    }
}
