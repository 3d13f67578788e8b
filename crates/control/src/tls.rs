//! TLS for the control path without a certificate authority: the node makes a self-signed
//! certificate at start and registers its SHA-256 fingerprint next to its control URL; the
//! functions accept exactly that certificate for that node (a pin), so requests and replies
//! (SDP, ICE credentials) are confidential and the node is authenticated to the caller, as
//! the signatures authenticate the caller to the node.
//!
//! Why not a public CA: nodes come and go with autoscaling and are addressed by IP, and a
//! private CA or ACM Private CA is a fixed monthly cost; the registry already carries what
//! the caller needs to trust a node.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::Arc;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// Lower-case hex SHA-256 of a certificate's DER: what the registry stores.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh self-signed certificate for `names` (IP addresses or DNS names) and the server
/// configuration that serves it, with the certificate's fingerprint.
pub fn self_signed(names: Vec<String>) -> Result<(Arc<rustls::ServerConfig>, String), String> {
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| format!("certificate: {e}"))?;
    let der = ck.cert.der().clone();
    let fp = fingerprint(&der);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .map_err(|e| format!("tls config: {e}"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(cfg), fp))
}

/// A client configuration that accepts only the certificate whose fingerprint is `pin`
/// (the handshake signature is still checked, so the peer must hold its key).
pub fn pinned(pin: &str) -> rustls::ClientConfig {
    client_config(pin.to_ascii_lowercase())
}

/// A client configuration for a loopback health check of the node itself: any certificate
/// (the check asks "does my own server answer", not "who is this").
pub fn any_certificate() -> rustls::ClientConfig {
    client_config(String::new())
}

fn client_config(pin: String) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("the default provider supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { pin, provider: provider() }))
        .with_no_client_auth()
}

#[derive(Debug)]
struct Pinned {
    /// Empty: accept any certificate (loopback health check only).
    pin: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.pin.is_empty() || fingerprint(end_entity) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_certificate_has_its_own_fingerprint() {
        let (_, a) = self_signed(vec!["127.0.0.1".into()]).unwrap();
        let (_, b) = self_signed(vec!["127.0.0.1".into()]).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }
}
