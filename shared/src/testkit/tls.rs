//! TLS in front of the real local services: a certificate authority made at test time
//! ([`TestCa`]) and a TLS-terminating proxy ([`TlsProxy`]) that forwards to a plain
//! PostgreSQL, RabbitMQ or HTTP server, so that a service can be run against `sslmode=…`,
//! `amqps://` and `https://` URLs without a TLS-enabled server.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};
use tokio_rustls::TlsAcceptor;

use crate::tls::ExtraRoots;

/// A private certificate authority, as a platform team would run: its certificate (PEM)
/// goes in `HOOKFLOW_TLS_CA_FILE`, and it signs the proxies' server certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA with a fresh P-256 key.
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Hookflow test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    /// The CA certificate in PEM, as `HOOKFLOW_TLS_CA_FILE` holds it.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA as a configuration's `tls_ca` (what loading a file with [`TestCa::pem`] gives).
    pub fn roots(&self) -> ExtraRoots {
        ExtraRoots::from_pem(self.pem().as_bytes()).expect("the test CA is a trust anchor")
    }

    /// A rustls server configuration with a certificate this CA signed for `names` (DNS
    /// names or IP addresses).
    pub fn server_config(&self, names: &[&str]) -> Arc<ServerConfig> {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let params = CertificateParams::new(names).expect("server certificate parameters");
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = ServerConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate and key");
        Arc::new(config)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

/// What a proxied connection starts with before TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preamble {
    /// TLS from the first byte (AMQPS, HTTPS).
    None,
    /// PostgreSQL's: the client's 8-byte SSLRequest, answered `S`, then TLS.
    Postgres,
    /// A PostgreSQL server without TLS: the SSLRequest is answered `N` and the connection
    /// forwarded in the clear.
    PostgresWithoutTls,
}

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// A TLS-terminating TCP proxy on 127.0.0.1 forwarding to a plain `upstream`; stops when
/// dropped.
pub struct TlsProxy {
    /// Its address.
    pub addr: SocketAddr,
    handshakes: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl TlsProxy {
    /// Serves `server` (e.g. [`TestCa::server_config`]) in front of `upstream`. Needs a
    /// Tokio runtime.
    pub fn start(server: Arc<ServerConfig>, upstream: SocketAddr, preamble: Preamble) -> TlsProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = TcpListener::from_std(listener).expect("proxy listener");
        let addr = listener.local_addr().expect("proxy address");
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&handshakes);
        let acceptor = TlsAcceptor::from(server);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let _ = forward(client, acceptor, upstream, preamble, counted).await;
                });
            }
        });
        TlsProxy {
            addr,
            handshakes,
            task,
        }
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    mut client: TcpStream,
    acceptor: TlsAcceptor,
    upstream: SocketAddr,
    preamble: Preamble,
    handshakes: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    if preamble != Preamble::None {
        let mut request = [0u8; 8];
        client.read_exact(&mut request).await?;
        if request != SSL_REQUEST {
            // A client that does not ask for TLS gets nothing from this server.
            return Ok(());
        }
        if preamble == Preamble::PostgresWithoutTls {
            client.write_all(b"N").await?;
            let mut server = TcpStream::connect(upstream).await?;
            tokio::io::copy_bidirectional(&mut client, &mut server).await?;
            return Ok(());
        }
        client.write_all(b"S").await?;
    }
    let mut tls = acceptor.accept(client).await?;
    handshakes.fetch_add(1, Ordering::SeqCst);
    let mut server = TcpStream::connect(upstream).await?;
    tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
    Ok(())
}
