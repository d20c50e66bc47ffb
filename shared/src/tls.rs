//! TLS for the connections a service makes — PostgreSQL, RabbitMQ, config-api and the HTTP
//! calls of workflow nodes — with rustls and its ring provider. [`client_config`] is the one
//! place that builds a rustls `ClientConfig`; every client uses it. What it trusts: the
//! system's roots plus the certificates of `HOOKFLOW_TLS_CA_FILE` (a private CA).

use std::{
    fmt,
    sync::{Arc, OnceLock},
};

use rustls::{
    CertificateError, ClientConfig, ConfigBuilder, DigitallySignedStruct, RootCertStore,
    SignatureScheme, WantsVerifier,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime, pem::PemObject},
};

/// Certificates trusted besides the system's roots: those of `HOOKFLOW_TLS_CA_FILE`,
/// read and checked when the configuration is loaded.
#[derive(Clone, Default)]
pub struct ExtraRoots {
    file: Option<String>,
    anchors: Vec<TrustAnchor<'static>>,
}

impl ExtraRoots {
    /// The certificates of the PEM file at `path`; an error says why it cannot be used.
    pub fn from_pem_file(path: &str) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        Self::from_pem(&pem).map(|mut roots| {
            roots.file = Some(path.to_owned());
            roots
        })
    }

    /// The certificates of PEM text (one or more `CERTIFICATE` blocks).
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("holds no PEM CERTIFICATE block".into());
        }
        let anchors = certs
            .iter()
            .map(|cert| {
                webpki_anchor(cert)
                    .map_err(|e| format!("a certificate cannot be a trust anchor: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ExtraRoots {
            file: None,
            anchors,
        })
    }

    /// Whether it adds no certificate.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

impl fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtraRoots")
            .field("file", &self.file)
            .field("certificates", &self.anchors.len())
            .finish()
    }
}

fn webpki_anchor(cert: &CertificateDer<'_>) -> Result<TrustAnchor<'static>, rustls::Error> {
    let mut store = RootCertStore::empty();
    store.add(cert.clone().into_owned())?;
    store
        .roots
        .pop()
        .ok_or_else(|| rustls::Error::General("no trust anchor".into()))
}

/// How a server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Signed by a trusted root and valid for the host name the URL gives (HTTPS, AMQPS,
    /// PostgreSQL `sslmode=verify-full`).
    Full,
    /// Signed by a trusted root, whatever name it is for (PostgreSQL `sslmode=verify-ca`).
    Chain,
    /// Not checked: the connection is encrypted but the server is not authenticated
    /// (PostgreSQL `sslmode=prefer` and `require`, as libpq does).
    Nothing,
}

/// Why a `ClientConfig` cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate checks were asked for, but nothing is trusted.
    #[error("no trusted root certificate: the system has none and HOOKFLOW_TLS_CA_FILE is not set")]
    NoRoots,
}

/// The crypto provider of the whole process (ring), installed as the process default the
/// first time it is asked for, so that rustls users that take the default use it too.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| {
        // Fails only when a default is already installed; that one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
    }))
}

/// The system's root certificates, read once per process.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(%error, "cannot read some system root certificates");
        }
        found.certs
    })
}

/// The roots a client trusts: the system's and `extra`.
fn root_store(extra: &ExtraRoots) -> RootCertStore {
    let mut store = RootCertStore::empty();
    let (_, unusable) = store.add_parsable_certificates(system_roots().iter().cloned());
    if unusable > 0 {
        tracing::debug!(unusable, "system root certificates skipped");
    }
    store.extend(extra.anchors.iter().cloned());
    store
}

/// The rustls client configuration every connection uses: the ring provider, TLS 1.2 and
/// 1.3, the system's roots plus `extra`, server certificates checked as `verify` says, no
/// client certificate. Only [`Verify::Chain`] can fail (it needs a root up front).
pub fn client_config(extra: &ExtraRoots, verify: Verify) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let config = match verify {
        Verify::Full => return Ok(verifying_client_config(extra)),
        Verify::Chain => {
            let roots = Arc::new(root_store(extra));
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|_| TlsError::NoRoots)?;
            versions()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
        }
        Verify::Nothing => versions()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider))),
    };
    Ok(config.with_no_client_auth())
}

/// [`client_config`] with [`Verify::Full`]: what HTTPS and AMQPS use.
pub fn verifying_client_config(extra: &ExtraRoots) -> ClientConfig {
    versions()
        .with_root_certificates(root_store(extra))
        .with_no_client_auth()
}

fn versions() -> ConfigBuilder<ClientConfig, WantsVerifier> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports TLS 1.2 and 1.3")
}

/// A reqwest client builder whose HTTPS uses [`client_config`] with full certificate checks
/// (the system's roots plus `HOOKFLOW_TLS_CA_FILE`): the way every HTTP client of a service
/// is made, so that `https://` URLs work with a private CA. reqwest's own TLS settings
/// (`add_root_certificate`, …) do not apply to it; put trust in `HOOKFLOW_TLS_CA_FILE`.
///
/// reqwest is built without a crypto provider of its own (`rustls-no-provider`, so the tree
/// holds ring only): a bare `reqwest::Client::new()` panics unless [`provider`] ran first
/// (the service binaries and `TestEnv::new` run it). Build clients here instead.
pub fn http_client_builder(extra: &ExtraRoots) -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(verifying_client_config(extra))
}

/// Checks the chain, accepts any name (`sslmode=verify-ca`).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The chain is checked before the name: a name error means the chain is good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Accepts any certificate, still checking that the server holds its key
/// (`sslmode=prefer`/`require`).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
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
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
