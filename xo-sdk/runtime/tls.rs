//! rustls configuration with the `ring` crypto provider.
//!
//! reqwest's own `rustls` feature brings the `aws-lc-rs` provider, whose C
//! build (`aws-lc-sys`) dominates a clean build on a small machine. We use
//! reqwest's `rustls-no-provider` instead and hand it a finished
//! `rustls::ClientConfig` built on `ring`. Building the config here, rather
//! than installing `ring` as the process-wide default provider, leaves the
//! application free to install its own default without a clash.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::error::{Error, Result};

/// Parse every certificate of a PEM bundle.
pub(crate) fn parse_pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Config(format!("invalid PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Config("no certificate found in the PEM data".into()));
    }
    Ok(certs)
}

/// The TLS configuration of a client built by the SDK: the platform's
/// verifier (system roots plus `extra_roots`), or no verification at all
/// when the caller explicitly asked for it.
pub(crate) fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    accept_invalid_certs: bool,
) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS setup failed: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if accept_invalid_certs {
        Arc::new(AcceptAnyCertificate {
            algorithms: provider.signature_verification_algorithms,
        })
    } else {
        Arc::new(platform_verifier(extra_roots, provider).map_err(|e| {
            Error::Config(format!(
                "cannot load TLS root certificates ({e}); install the system CA \
                         bundle or pass a certificate to add_root_certificate_pem"
            ))
        })?)
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // reqwest is built for HTTP/1.1 only (xo-server speaks nothing else):
    // offering h2 would let a proxy in front of XO choose a protocol the
    // client cannot speak.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(not(target_os = "android"))]
fn platform_verifier(
    extra_roots: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> std::result::Result<rustls_platform_verifier::Verifier, rustls::Error> {
    rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider)
}

/// The Android verifier cannot take extra roots.
#[cfg(target_os = "android")]
fn platform_verifier(
    extra_roots: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> std::result::Result<rustls_platform_verifier::Verifier, rustls::Error> {
    if !extra_roots.is_empty() {
        return Err(rustls::Error::General(
            "extra root certificates are not supported on Android".into(),
        ));
    }
    rustls_platform_verifier::Verifier::new(provider)
}

/// Accepts any server certificate, for the explicit
/// `danger_accept_invalid_certs` opt-in. Handshake signatures are still
/// checked, so the peer must at least hold the key of the certificate it
/// shows.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
