//! Bearer JWT verification: HS256 with a shared secret, or RS256/ES256 with a
//! public key. Only the configured algorithm is accepted, so `alg: none` and
//! algorithm confusion (an RS256 key used as an HS256 secret) are rejected;
//! expiry is always checked, issuer and audience when configured.

use anyhow::Context as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use metacrawl_engine::Principal;
use serde::{Deserialize, Serialize};

/// Role claim value that makes the caller an administrator.
pub(crate) const ADMIN_ROLE: &str = "ADMIN";

/// Claims metacrawl reads from a token.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) sub: String,
    pub(crate) exp: u64,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aud: Option<String>,
}

/// Key material for verifying tokens. `Debug` never shows a secret.
pub(crate) enum VerificationKey {
    Hs256 { secret: Vec<u8> },
    Rs256 { public_key_pem: Vec<u8> },
    Es256 { public_key_pem: Vec<u8> },
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            VerificationKey::Hs256 { .. } => "Hs256",
            VerificationKey::Rs256 { .. } => "Rs256",
            VerificationKey::Es256 { .. } => "Es256",
        };
        formatter.write_str(name)
    }
}

/// Verifies bearer tokens and turns them into principals.
pub(crate) struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// Creates a verifier; `issuer` and `audience` are checked when given.
    pub(crate) fn new(
        key: &VerificationKey,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> anyhow::Result<TokenVerifier> {
        let (algorithm, decoding_key) = match key {
            VerificationKey::Hs256 { secret } => (
                Algorithm::HS256,
                DecodingKey::from_secret(secret).context("invalid HS256 secret")?,
            ),
            VerificationKey::Rs256 { public_key_pem } => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(public_key_pem)
                    .context("invalid RS256 public key PEM in [auth] public_key_file")?,
            ),
            VerificationKey::Es256 { public_key_pem } => (
                Algorithm::ES256,
                DecodingKey::from_ec_pem(public_key_pem)
                    .context("invalid ES256 public key PEM in [auth] public_key_file")?,
            ),
        };
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = true;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(TokenVerifier {
            key: decoding_key,
            validation,
        })
    }

    /// Verifies an `Authorization` header value and returns the caller, or
    /// why the caller is not authenticated.
    pub(crate) fn verify(&self, authorization: Option<&str>) -> Result<Principal, String> {
        let Some(header) = authorization else {
            return Err(
                "missing Authorization header; send Authorization: Bearer <JWT>".to_string(),
            );
        };
        let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
        else {
            return Err(
                "the Authorization header is not a Bearer token; send Authorization: Bearer <JWT>"
                    .to_string(),
            );
        };

        let decoded = jsonwebtoken::decode::<Claims>(token.trim(), &self.key, &self.validation)
            .map_err(|error| format!("invalid token: {error}"))?;
        let claims = decoded.claims;
        Ok(Principal {
            admin: claims.roles.iter().any(|role| role == ADMIN_ROLE),
            subject: claims.sub,
        })
    }
}

/// Mints an HS256 token (for `metacrawl token`).
pub(crate) fn mint_hs256(secret: &[u8], claims: &Claims) -> anyhow::Result<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret).context("invalid HS256 secret")?,
    )
    .context("signing the token failed")
}
