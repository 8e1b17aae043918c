//! A tiny static file server on 127.0.0.1 for the tile tests: GET only, one
//! request per connection, 404 for what is not a file under its root. It
//! stops when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct StaticServer {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    /// Requests answered so far.
    pub requests: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `root` on a free port of 127.0.0.1.
    pub fn serve(root: &Path) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let (root, s, r) = (root.to_owned(), stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = answer(&root, conn);
                    r.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        StaticServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// The URL of the root directory.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(root: &Path, conn: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let mut conn = conn;
    let path = request
        .strip_prefix("GET /")
        .and_then(|r| r.split(' ').next())
        .and_then(|p| file_under(root, p));
    match path.and_then(|p| std::fs::read(p).ok()) {
        Some(body) => {
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            conn.write_all(&body)?;
        }
        None => conn.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?,
    }
    conn.flush()
}

/// `p` under `root`, if it names a file there without `..`.
fn file_under(root: &Path, p: &str) -> Option<PathBuf> {
    let rel = Path::new(p);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = root.join(rel);
    full.is_file().then_some(full)
}
