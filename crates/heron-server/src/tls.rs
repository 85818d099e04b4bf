//! HTTPS: the API served over TLS (rustls on ring, HTTP/2 and HTTP/1.1 by
//! ALPN) when `HERON_TLS_CERT` and `HERON_TLS_KEY` name PEM files.
//!
//! The certificate is reloaded without a restart and without dropping a
//! connection: on SIGHUP, and when either file's modification time
//! changes (checked every few seconds, so a certificate renewed by
//! cert-manager or certbot is picked up by itself). New handshakes get the
//! new certificate; open connections keep theirs. A file that does not
//! load is logged and the current certificate stays.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("TLS key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("TLS: {0}")]
    Config(String),
}

/// The certificate in force, swapped on reload.
#[derive(Debug)]
pub struct ReloadingCertificate {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    loaded_from: RwLock<(Option<SystemTime>, Option<SystemTime>)>,
}

impl ReloadingCertificate {
    pub fn load(cert: &Path, key: &Path) -> Result<ReloadingCertificate, TlsError> {
        let certified = certified_key(cert, key)?;
        Ok(ReloadingCertificate {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(Arc::new(certified)),
            loaded_from: RwLock::new((modified(cert), modified(key))),
        })
    }

    /// Load the files again; the current certificate stays when they do
    /// not load.
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamps = (modified(&self.cert), modified(&self.key));
        let certified = certified_key(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(certified);
        *self.loaded_from.write().unwrap_or_else(|e| e.into_inner()) = stamps;
        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// Whether either file changed since it was loaded.
    fn changed(&self) -> bool {
        let stamps = (modified(&self.cert), modified(&self.key));
        *self.loaded_from.read().unwrap_or_else(|e| e.into_inner()) != stamps
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Certificate {
            path: cert.to_path_buf(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: cert.to_path_buf(),
            reason: "no certificate in the file".to_owned(),
        });
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.to_path_buf(),
        reason: e.to_string(),
    })?;
    let signing =
        rustls::crypto::ring::sign::any_supported_type(&private).map_err(|e| TlsError::Key {
            path: key.to_path_buf(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| TlsError::Key {
        path: key.to_path_buf(),
        reason: format!("does not match the certificate: {e}"),
    })?;
    Ok(certified)
}

/// Who may connect: anyone (the API key authenticates), or only clients
/// with a certificate from one of the CAs in a PEM file (mutual TLS, for
/// service-to-service calls), or — `optional` — anyone, but a client
/// that presents a certificate must present a valid one.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    None,
    Certificate { ca: PathBuf, optional: bool },
}

/// The rustls configuration: TLS 1.2 and 1.3 on ring, h2 then http/1.1.
pub fn server_config(
    certificate: Arc<ReloadingCertificate>,
    clients: &ClientAuth,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match clients {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Certificate { ca, optional } => {
            builder.with_client_cert_verifier(client_verifier(ca, *optional, provider)?)
        }
    };
    let mut config = builder.with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A verifier of client certificates against the CAs in `ca`.
fn client_verifier(
    ca: &Path,
    optional: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let unreadable = |reason: String| TlsError::Certificate {
        path: ca.to_path_buf(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(ca).map_err(|e| unreadable(e.to_string()))? {
        roots
            .add(certificate.map_err(|e| unreadable(e.to_string()))?)
            .map_err(|e| unreadable(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(unreadable("no CA certificate in the file".to_owned()));
    }
    let builder =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = if optional {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder.build().map_err(|e| TlsError::Config(e.to_string()))
}

/// Reload on SIGHUP and when the files change, for ever.
pub async fn watch(certificate: Arc<ReloadingCertificate>) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    loop {
        #[cfg(unix)]
        let signalled = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await.is_some(),
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let signalled = std::future::pending::<bool>();
        let forced = tokio::select! {
            _ = ticker.tick() => false,
            got = signalled => got,
        };
        if (forced || certificate.changed())
            && let Err(e) = certificate.reload()
        {
            tracing::error!(error = %e, "the new TLS certificate does not load; keeping the current one");
        }
    }
}

/// Serve `app` over TLS on `listener` until `shutdown`; then stop
/// accepting and let open connections finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: rustls::ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let service =
                hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    let app = app.clone();
                    async move {
                        let response = app.oneshot(request.map(axum::body::Body::new)).await;
                        Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
                    }
                });
            let builder = auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Open connections finish their requests (bounded by the caller's
    // shutdown grace).
    graceful.shutdown().await;
    Ok(())
}
