//! `cmtrace-rs parse`: every entry of every file as NDJSON or CSV, files in path order (rotated sets
//! oldest first), each file's entries in file order. Chunks are rendered in parallel
//! (`render::entries`) and written in order.

use std::io::Write;
use std::sync::{mpsc, Arc, Mutex};

use cmtrace_parsers::input::discover;
use cmtrace_parsers::scan::{scan_ordered, ScanOptions, Scanned};

use super::{Failure, EXIT_OK, EXIT_UNUSABLE};
use crate::cli::{ParseArgs, ParseFormat};
use crate::render::entries::{csv, ndjson, RenderedChunk};

/// What the scan hands over, in output order.
enum Piece {
    /// A file was opened and is read.
    Readable,
    /// A file could not be read: its path and why.
    Unreadable(String, String),
    Chunk(RenderedChunk),
    /// What went wrong while a file was read: its path and the warning.
    Warning(String, String),
}

/// Batches of pieces waiting to be written, at the most.
const PIECES_AHEAD: usize = 2;

/// A batch is handed over once its rendered chunks hold this many bytes (or it holds `BATCH_PIECES` pieces):
/// one hand-over per piece (a file's start, each chunk, most files one chunk) woke the writer and the scan
/// thread tens of thousands of times on a fleet collection, 11% of `parse`'s samples spent switching threads.
const BATCH_BYTES: usize = 1 << 20;
const BATCH_PIECES: usize = 1024;

pub fn run(args: &ParseArgs) -> Result<u8, Failure> {
    let discovery = discover(&args.input.paths_or_cwd(), &args.input.hosts, args.input.limits());
    for p in &discovery.problems {
        crate::say!("cmtrace-rs: {}: {}", p.path, p.error);
    }
    super::collect::check_host_overrides(&discovery.unused_overrides)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 << 10, stdout.lock());
    let render = match args.format {
        ParseFormat::Ndjson => ndjson::render_chunk,
        ParseFormat::Csv => {
            csv::write_header(&mut out).map_err(Failure::Output)?;
            csv::render_chunk
        }
    };
    let (files, passed_over) = (discovery.files.len(), discovery.skipped.len());
    // Output buffers are recycled: fresh multi-megabyte buffers cost page faults and zeroing.
    let pool: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let scan_pool = Arc::clone(&pool);
    // The scan runs on a thread of its own and hands its pieces over in order: a write that fails (a
    // reader that closed stdout) ends the command at once, not after reading the rest.
    let (pieces, received) = mpsc::sync_channel::<Vec<Piece>>(PIECES_AHEAD);
    let scan = std::thread::spawn(move || {
        let take = || scan_pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
        // Output is three to five times the input: a small batch keeps the rendered chunks held at once
        // to a few tens of MB.
        let opts = ScanOptions { chunk_bytes: 1 << 20, batch_bytes: 4 << 20, ..ScanOptions::default() };
        let (mut batch, mut batch_bytes) = (Vec::new(), 0usize);
        scan_ordered(
            &discovery.files,
            opts,
            |src, file, chunk| render(src, file, chunk, take()),
            |msg| {
                let piece = match msg {
                    Scanned::Start { file: Ok(_), .. } => Piece::Readable,
                    Scanned::Start { source, file: Err(e), .. } => {
                        Piece::Unreadable(source.path.clone(), e.to_string())
                    }
                    Scanned::Chunk { result, .. } => Piece::Chunk(result),
                    Scanned::End { source, warning: Some(w), .. } => Piece::Warning(source.path.clone(), w),
                    Scanned::End { warning: None, .. } => return,
                };
                if let Piece::Chunk(chunk) = &piece {
                    batch_bytes += chunk.bytes.len();
                }
                batch.push(piece);
                if batch_bytes >= BATCH_BYTES || batch.len() >= BATCH_PIECES {
                    batch_bytes = 0;
                    // Fails only when the command has ended (the process is about to).
                    let _ = pieces.send(std::mem::take(&mut batch));
                }
            },
        );
        let _ = pieces.send(batch);
    });
    let mut readable = 0usize;
    let (mut entries, mut unparsed) = (0u64, 0u64);
    for piece in received.into_iter().flatten() {
        match piece {
            Piece::Readable => readable += 1,
            Piece::Unreadable(path, error) => crate::say!("cmtrace-rs: {path}: {error}"),
            Piece::Chunk(mut chunk) => {
                entries += chunk.entries;
                unparsed += chunk.unparsed;
                out.write_all(&chunk.bytes).map_err(Failure::Output)?;
                chunk.bytes.clear();
                if let Ok(mut p) = pool.lock() {
                    p.push(chunk.bytes);
                }
            }
            Piece::Warning(path, warning) => crate::say!("cmtrace-rs: {path}: {warning}"),
        }
    }
    if let Err(panic) = scan.join() {
        std::panic::resume_unwind(panic);
    }
    out.flush().map_err(Failure::Output)?;
    crate::say!(
        "cmtrace-rs: {} files read ({} could not be read, {} passed over), {} entries, {} unparsed lines",
        readable,
        files - readable,
        passed_over,
        entries,
        unparsed
    );
    if readable == 0 {
        crate::say!("cmtrace-rs: no readable log in the input");
        return Ok(EXIT_UNUSABLE);
    }
    Ok(EXIT_OK)
}
