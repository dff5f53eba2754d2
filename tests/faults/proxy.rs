//! A loopback TCP proxy put between the platform and RabbitMQ, so a test can take
//! the broker away from the platform (and give it back) without touching the
//! machine's RabbitMQ, which other tests use.
//!
//! `cut()` refuses new connections (accepted, then reset at once) and resets every
//! established one; `restore()` lets connections through again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    addr: SocketAddr,
    /// `(open, generation)`: a cut bumps the generation, which every piping task
    /// watches to reset its connection.
    state: Arc<watch::Sender<(bool, u64)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, _) = watch::channel((true, 0u64));
        let state = Arc::new(tx);
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (open, generation) = *st.borrow();
                if !open {
                    reset(client);
                    continue;
                }
                let rx = st.subscribe();
                tokio::spawn(pipe(client, upstream, rx, generation));
            }
        });
        Proxy { addr, state, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Resets every connection and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.state.send_modify(|(open, generation)| {
            *open = false;
            *generation += 1;
        });
    }

    pub fn restore(&self) {
        self.state.send_modify(|(open, _)| *open = true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

/// Closes with a TCP reset (linger 0), as a broker that vanished would look.
/// (Linger 0 never blocks on drop, which is what the deprecation warns about.)
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

async fn pipe(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut cut: watch::Receiver<(bool, u64)>,
    generation: u64,
) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cut.wait_for(|(_, g)| *g != generation) => {}
    }
    reset(client);
    reset(server);
}
