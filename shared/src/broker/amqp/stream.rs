//! The connection to RabbitMQ: plain TCP for `amqp://`, TLS with [`crate::tls`]'s client
//! configuration for `amqps://`.
//!
//! lapin's own TLS (through `tcp-stream`) builds its rustls configuration itself and pulls
//! a PKCS#12 stack along; instead lapin is handed a runtime whose TCP stream type can be
//! either, and the TLS handshake is done here with tokio-rustls.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use async_compat::Compat;
use async_rs::{Runtime, Tokio, traits::Reactor, util::RuntimeParts};
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::Stream;
use lapin::{
    AsyncTcpStream, Connection, ConnectionProperties,
    uri::{AMQPScheme, AMQPUri},
};
use rustls::{ClientConfig, pki_types::ServerName};

/// Opens a connection to `url`; `amqps://` URLs get TLS with `tls`.
pub(crate) async fn connect(
    url: &str,
    tls: Arc<ClientConfig>,
    properties: ConnectionProperties,
) -> lapin::Result<Connection> {
    let uri: AMQPUri = url.parse().map_err(|reason: String| {
        lapin::Error::from(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid AMQP URL: {reason}"),
        ))
    })?;
    let tokio = Tokio::current();
    let runtime = Runtime::new(RuntimeParts::new(tokio.clone(), TlsReactor { tokio }));
    Connection::connector(
        uri,
        runtime,
        async move |uri: AMQPUri, _runtime| {
            let stream = open(&uri, &tls).await?;
            Ok(AsyncTcpStream::Plain(stream))
        },
        properties,
    )
    .await
}

/// TCP, then TLS when the URL says `amqps`; an error names the address and the step.
async fn open(uri: &AMQPUri, tls: &Arc<ClientConfig>) -> io::Result<AmqpStream> {
    let host = uri.authority.host.clone();
    let port = uri.authority.port;
    let tcp = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        tcp.set_nodelay(true)?;
        io::Result::Ok(tcp)
    };
    let tcp = match uri.query.connection_timeout {
        Some(millis) => tokio::time::timeout(Duration::from_millis(millis), tcp)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connection timed out"))?,
        None => tcp.await,
    }
    .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {host}:{port}: {e}")))?;
    match uri.scheme {
        AMQPScheme::AMQP => Ok(AmqpStream::Plain(Compat::new(tcp))),
        AMQPScheme::AMQPS => {
            let name = ServerName::try_from(host.clone()).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{host:?} is not a TLS server name: {e}"),
                )
            })?;
            let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
                .connect(name, tcp)
                .await
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("TLS handshake with {host}:{port} failed: {e}"),
                    )
                })?;
            Ok(AmqpStream::Tls(Box::new(Compat::new(stream))))
        }
    }
}

/// A connection to RabbitMQ, plain or TLS.
pub(crate) enum AmqpStream {
    Plain(Compat<tokio::net::TcpStream>),
    Tls(Box<Compat<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>>),
}

impl AsyncRead for AmqpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AmqpStream::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            AmqpStream::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for AmqpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AmqpStream::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            AmqpStream::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AmqpStream::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            AmqpStream::Tls(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AmqpStream::Plain(stream) => Pin::new(stream).poll_flush(cx),
            AmqpStream::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AmqpStream::Plain(stream) => Pin::new(stream).poll_close(cx),
            AmqpStream::Tls(stream) => Pin::new(stream.as_mut()).poll_close(cx),
        }
    }
}

/// Tokio's reactor with [`AmqpStream`] as its TCP stream type, so that lapin can carry a
/// TLS stream; everything else is tokio's.
#[derive(Debug, Clone)]
struct TlsReactor {
    tokio: Tokio,
}

impl Reactor for TlsReactor {
    type TcpStream = AmqpStream;
    type Sleep = <Tokio as Reactor>::Sleep;

    fn register<H>(
        &self,
        socket: H,
    ) -> io::Result<impl AsyncRead + AsyncWrite + Send + Unpin + 'static>
    where
        H: io::Read + io::Write + std::os::fd::AsFd + std::os::fd::AsRawFd + Send + 'static,
    {
        self.tokio.register(socket)
    }

    fn sleep(&self, dur: Duration) -> Self::Sleep {
        self.tokio.sleep(dur)
    }

    fn interval(&self, dur: Duration) -> impl Stream<Item = Instant> + Send + 'static {
        self.tokio.interval(dur)
    }

    fn tcp_connect_addr(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<Self::TcpStream>> + Send + 'static {
        let connect = self.tokio.tcp_connect_addr(addr);
        async move { connect.await.map(AmqpStream::Plain) }
    }
}
