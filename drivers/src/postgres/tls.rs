//! TLS for Postgres connections, with libpq's `sslmode` meanings:
//!
//! | sslmode | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | no | no |
//! | `prefer` (default) | when the server offers TLS | no |
//! | `require` | yes | no |
//! | `verify-ca` | yes | signed by `sslrootcert` |
//! | `verify-full` | yes | signed by `sslrootcert` and issued for the host |

use metacrawl_engine::driver::{DriverError, DriverErrorKind};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// TLS use of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa(PathBuf),
    VerifyFull(PathBuf),
}

fn invalid(message: impl Into<String>) -> DriverError {
    DriverError::new(DriverErrorKind::InvalidConfig, message)
}

impl TlsMode {
    /// Reads `sslmode` and `sslrootcert` as libpq spells them.
    pub(crate) fn parse(
        mode: Option<&str>,
        root_cert: Option<&str>,
    ) -> Result<TlsMode, DriverError> {
        let root = || {
            let path = root_cert.ok_or_else(|| {
                invalid(format!(
                    "sslmode={} checks the server certificate: add sslrootcert=PATH, the CA \
                     certificate (PEM) that signed it",
                    mode.unwrap_or_default()
                ))
            })?;
            if !Path::new(path).is_file() {
                return Err(invalid(format!(
                    "sslrootcert '{path}' does not exist; point it at the CA certificate (PEM) of the server"
                )));
            }
            Ok(PathBuf::from(path))
        };
        match mode.unwrap_or("prefer") {
            "disable" => Ok(TlsMode::Disable),
            "allow" | "prefer" => Ok(TlsMode::Prefer),
            "require" => Ok(TlsMode::Require),
            "verify-ca" => Ok(TlsMode::VerifyCa(root()?)),
            "verify-full" => Ok(TlsMode::VerifyFull(root()?)),
            other => Err(invalid(format!(
                "sslmode={other} is not a libpq sslmode; use disable, prefer, require, verify-ca or verify-full"
            ))),
        }
    }

    /// Returns the `sslmode` given to tokio-postgres, which supports disable,
    /// prefer and require and leaves certificate checks to the connector.
    pub(crate) fn client_mode(&self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require | TlsMode::VerifyCa(_) | TlsMode::VerifyFull(_) => "require",
        }
    }

    /// Builds the TLS connector; `None` for `disable`.
    pub(crate) fn connector(&self) -> Result<Option<MakeRustlsConnect>, DriverError> {
        // ring is the provider the rest of the build already uses; the
        // post-quantum default would bring in aws-lc's C build.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|error| invalid(format!("cannot set up TLS: {error}")))?;
        let config = match self {
            TlsMode::Disable => return Ok(None),
            TlsMode::Prefer | TlsMode::Require => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider }))
                .with_no_client_auth(),
            TlsMode::VerifyCa(path) => {
                let verifier = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(root_store(path)?),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|error| {
                    invalid(format!(
                        "cannot use sslrootcert '{}': {error}",
                        path.display()
                    ))
                })?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyHostName { inner: verifier }))
                    .with_no_client_auth()
            }
            TlsMode::VerifyFull(path) => builder
                .with_root_certificates(root_store(path)?)
                .with_no_client_auth(),
        };
        Ok(Some(MakeRustlsConnect::new(config)))
    }
}

fn root_store(path: &Path) -> Result<RootCertStore, DriverError> {
    let unreadable = |error: String| {
        invalid(format!(
            "cannot read sslrootcert '{}': {error}; point it at a CA certificate in PEM form",
            path.display()
        ))
    };
    let mut store = RootCertStore::empty();
    for certificate in
        CertificateDer::pem_file_iter(path).map_err(|error| unreadable(error.to_string()))?
    {
        let certificate = certificate.map_err(|error| unreadable(error.to_string()))?;
        store
            .add(certificate)
            .map_err(|error| unreadable(error.to_string()))?;
    }
    if store.is_empty() {
        return Err(unreadable("it holds no certificate".to_string()));
    }
    Ok(store)
}

/// Accepts any server certificate (libpq's `require`): the connection is
/// encrypted, but the server is not authenticated. Handshake signatures are
/// still checked.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Checks that the certificate chains to the configured CA but not which
/// host it names (libpq's `verify-ca`).
#[derive(Debug)]
struct AnyHostName {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::TlsMode;

    #[test]
    fn modes_follow_libpq() {
        assert_eq!(TlsMode::parse(None, None).unwrap(), TlsMode::Prefer);
        assert_eq!(
            TlsMode::parse(Some("disable"), None).unwrap(),
            TlsMode::Disable
        );
        assert_eq!(
            TlsMode::parse(Some("require"), None).unwrap().client_mode(),
            "require"
        );
        assert!(
            TlsMode::parse(Some("verify-full"), None)
                .unwrap_err()
                .message
                .contains("add sslrootcert=PATH")
        );
        assert!(
            TlsMode::parse(Some("verify-ca"), Some("/nonexistent/ca.pem"))
                .unwrap_err()
                .message
                .contains("does not exist")
        );
        assert!(
            TlsMode::parse(Some("always"), None)
                .unwrap_err()
                .message
                .contains("not a libpq sslmode")
        );
    }
}
