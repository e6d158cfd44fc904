//! The progress line on stderr, shown only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running progress line; [`Progress::stop`] erases it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts redrawing `items out, rate` five times a second, if stderr is a terminal.
    pub fn start(written: Arc<AtomicU64>) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || draw(&written, &stop))
        });
        Progress { stop, thread }
    }

    /// Stops and erases the line.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

#[allow(clippy::cast_precision_loss)] // a rate for people to read
fn draw(written: &AtomicU64, stop: &AtomicBool) {
    let started = Instant::now();
    let spinner = ['|', '/', '-', '\\'];
    let mut tick = 0;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let n = written.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64();
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2K{} {n} items out, {:.0} items/s, {secs:.1} s",
            spinner[tick % spinner.len()],
            n as f64 / secs.max(1e-9)
        );
        tick += 1;
    }
}
