//! The prefetcher: growing ranged GETs for sequential reads, within the window; exact GETs
//! for random reads.

use std::sync::atomic::Ordering;

use sos_vfs::{INITIAL_READ_SIZE, MemoryStorage, ROOT_INO, Storage, Vfs, VfsOptions};

use crate::common::{data, errno};
use crate::instrumented::Instrumented;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

async fn setup(size: usize, window: u64) -> (Instrumented, Vfs<Instrumented>, Vec<u8>) {
    let storage = Instrumented::new(MemoryStorage::new());
    let contents = data(size, 7);
    storage.put("file", contents.clone().into()).await.unwrap();
    let vfs = Vfs::new(
        storage.clone(),
        VfsOptions::default().with_prefetch_window(window),
    )
    .unwrap();
    (storage, vfs, contents)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_reads_grow_within_the_window() {
    let size = 3 * MIB as usize + 100;
    let window = MIB;
    let (storage, vfs, contents) = setup(size, window).await;
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    let mut out = Vec::new();
    let mut reads = 0;
    loop {
        let chunk = vfs
            .read(file.ino, fh, out.len() as u64, 128 * KIB as u32)
            .await
            .unwrap();
        if chunk.is_empty() {
            break;
        }
        reads += 1;
        out.extend_from_slice(&chunk);
    }
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(out, contents);

    let mut gets = storage.take_gets();
    gets.sort_by_key(|r| r.start);
    let sizes: Vec<u64> = gets.iter().map(|r| r.end - r.start).collect();
    // 128 KiB, 256 KiB, then a third of the window each: the chunk being read plus the two
    // ahead never exceed the window.
    assert_eq!(
        sizes[..3],
        [INITIAL_READ_SIZE, 2 * INITIAL_READ_SIZE, window / 3]
    );
    assert!(sizes.iter().all(|&s| s <= window / 3), "{sizes:?}");
    assert!(sizes.windows(2).all(|w| w[0] <= w[1] || w[1] < window / 3));
    // Contiguous, nothing fetched twice, nothing past the end.
    assert_eq!(gets[0].start, 0);
    assert!(gets.windows(2).all(|w| w[0].end == w[1].start), "{gets:?}");
    assert_eq!(gets.last().unwrap().end, size as u64);
    assert!(
        gets.len() * 2 < reads,
        "{} GETs for {reads} reads",
        gets.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_reads_are_exact_ranged_gets() {
    let (storage, vfs, contents) = setup(4 * MIB as usize, 8 * MIB).await;
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    for (offset, len) in [(1000u64, 100u32), (50, 10), (3 * MIB, 4096), (2 * MIB, 1)] {
        let got = vfs.read(file.ino, fh, offset, len).await.unwrap();
        let start = offset as usize;
        assert_eq!(got, contents[start..start + len as usize]);
    }
    assert_eq!(
        storage.take_gets(),
        [
            1000..1100,
            50..60,
            3 * MIB..3 * MIB + 4096,
            2 * MIB..2 * MIB + 1
        ]
    );
    // Past the end: nothing, and no request.
    assert!(
        vfs.read(file.ino, fh, 5 * MIB, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The end: only what is left.
    let tail = vfs.read(file.ino, fh, 4 * MIB - 3, 10).await.unwrap();
    assert_eq!(tail.len(), 3);
    assert_eq!(storage.take_gets(), vec![4 * MIB - 3..4 * MIB]);
    vfs.release(file.ino, fh).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_after_random_restarts_small() {
    let (storage, vfs, contents) = setup(2 * MIB as usize, 8 * MIB).await;
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    let mut offset = MIB;
    for _ in 0..4 {
        let got = vfs.read(file.ino, fh, offset, 4096).await.unwrap();
        assert_eq!(got, contents[offset as usize..offset as usize + 4096]);
        offset += 4096;
    }
    let gets = storage.take_gets();
    // A random read, then one small GET, then the prefetcher takes over.
    assert_eq!(gets[0], MIB..MIB + 4096);
    assert_eq!(gets[1].end - gets[1].start, INITIAL_READ_SIZE);
    // Reading back inside the buffer costs nothing.
    let again = vfs.read(file.ino, fh, MIB + 5000, 100).await.unwrap();
    assert_eq!(
        again,
        contents[(MIB + 5000) as usize..(MIB + 5100) as usize]
    );
    // (Only the GET running ahead, if it started late, may show.)
    let ahead = MIB + 4096 + INITIAL_READ_SIZE;
    assert!(storage.take_gets().iter().all(|r| r.start >= ahead));
    vfs.release(file.ino, fh).await.unwrap();
}

#[tokio::test]
async fn a_read_larger_than_the_window_is_one_exact_get() {
    let (storage, vfs, contents) = setup(3 * MIB as usize, MIB).await;
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    let got = vfs.read(file.ino, fh, 0, 2 * MIB as u32).await.unwrap();
    assert_eq!(got, contents[..2 * MIB as usize]);
    assert_eq!(storage.take_gets(), vec![0..2 * MIB]);
    vfs.release(file.ino, fh).await.unwrap();
}

#[tokio::test]
async fn no_window_means_exact_gets() {
    let (storage, vfs, _) = setup(100_000, 0).await;
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    for i in 0..5u64 {
        vfs.read(file.ino, fh, i * 1000, 1000).await.unwrap();
    }
    let gets = storage.take_gets();
    assert_eq!(gets.len(), 5);
    assert!(gets.iter().all(|r| r.end - r.start == 1000));
    vfs.release(file.ino, fh).await.unwrap();
}

#[tokio::test]
async fn a_replaced_object_is_not_mixed_with_the_old_one() {
    let (storage, vfs, _) = setup(300_000, 8 * MIB).await;
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    vfs.read(file.ino, fh, 0, 1000).await.unwrap();
    storage.put("file", data(300_000, 8).into()).await.unwrap();
    // Served from the first chunk: still the old version, whole.
    vfs.read(file.ino, fh, 1000, 1000).await.unwrap();
    // Beyond it, the new version is refused: ESTALE, as Mountpoint.
    let e = vfs.read(file.ino, fh, 200_000, 1000).await.unwrap_err();
    assert_eq!(e.errno(), libc::ESTALE);
    assert!(e.to_string().contains("open it again"), "{e}");
    vfs.release(file.ino, fh).await.unwrap();
    // Opened again: the new version.
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    assert_eq!(
        vfs.read(file.ino, fh, 0, 3).await.unwrap(),
        data(300_000, 8)[..3]
    );
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(errno(&vfs.read(file.ino, fh, 0, 3).await), libc::EBADF);
}

/// Reads the whole file with `len`-byte reads from offset 0.
async fn read_all(vfs: &Vfs<Instrumented>, len: u32) -> Result<Vec<u8>, sos_vfs::Error> {
    let file = vfs.lookup(ROOT_INO, "file").await?;
    let fh = vfs.open(file.ino, libc::O_RDONLY).await?;
    let mut out = Vec::new();
    let result = loop {
        match vfs.read(file.ino, fh, out.len() as u64, len).await {
            Ok(chunk) if chunk.is_empty() => break Ok(out),
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(e) => break Err(e),
        }
    };
    vfs.release(file.ino, fh).await?;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_in_small_pieces_are_read_across_piece_and_range_ends() {
    // Pieces that divide neither the reads nor the ranges, and reads that do not divide
    // the ranges: every read is assembled from several pieces, some from two ranges.
    let size = 2 * MIB as usize + 12_345;
    let (storage, vfs, contents) = setup(size, MIB).await;
    for (piece, read) in [(1000, 128 * KIB as u32), (4096, 100_000), (65_536, 4096)] {
        storage.record.piece_size.store(piece, Ordering::SeqCst);
        assert_eq!(
            read_all(&vfs, read).await.unwrap(),
            contents,
            "pieces {piece}"
        );
        // Recorded as the tasks run, which may be out of their order: sorted, contiguous.
        let mut gets = storage.take_gets();
        gets.sort_by_key(|r| r.start);
        assert!(gets.windows(2).all(|w| w[0].end == w[1].start), "{gets:?}");
        assert!(
            gets.iter()
                .all(|r| r.end - r.start <= MIB / 3 || r.start == 0)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_or_failing_midway_is_an_error_not_short_data() {
    let (storage, vfs, _) = setup(MIB as usize, MIB).await;
    storage.record.piece_size.store(10_000, Ordering::SeqCst);
    storage.record.short_by.store(1, Ordering::SeqCst);
    let e = read_all(&vfs, 128 * KIB as u32).await.unwrap_err();
    assert_eq!(e.errno(), libc::EIO, "{e}");
    storage.record.short_by.store(0, Ordering::SeqCst);
    storage.record.fail_get_midway.store(true, Ordering::SeqCst);
    let e = read_all(&vfs, 128 * KIB as u32).await.unwrap_err();
    assert_eq!(e.errno(), libc::EIO, "{e}");
    assert!(e.to_string().contains("injected"), "{e}");
    // Healthy again: the same handle type reads everything.
    storage
        .record
        .fail_get_midway
        .store(false, Ordering::SeqCst);
    assert_eq!(
        read_all(&vfs, 128 * KIB as u32).await.unwrap().len(),
        MIB as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_a_little_out_of_order_keep_the_stream() {
    // Reads of one handle from several tasks reach the reader a little out of order: here
    // every pair of 128 KiB reads swapped, as two racing tasks would. They are served from
    // the stream (or by a small exact GET when one comes late), never by restarting it:
    // the object is fetched about once, not once per swap.
    let size = 4 * MIB as usize;
    let (storage, vfs, contents) = setup(size, MIB).await;
    storage
        .record
        .piece_size
        .store(16 * KIB as usize, Ordering::SeqCst);
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    let read = 128 * KIB;
    let mut out = vec![0u8; size];
    for pair in (0..size as u64 / read).step_by(2) {
        for i in [pair + 1, pair] {
            let offset = i * read;
            let got = vfs.read(file.ino, fh, offset, read as u32).await.unwrap();
            out[offset as usize..offset as usize + got.len()].copy_from_slice(&got);
        }
    }
    vfs.release(file.ino, fh).await.unwrap();
    assert_eq!(out, contents);
    let gets = storage.take_gets();
    let fetched: u64 = gets.iter().map(|r| r.end - r.start).sum();
    assert!(
        fetched < size as u64 * 3 / 2,
        "{fetched} bytes fetched for a {size}-byte file: {gets:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answered_at_once_keep_the_stream_going() {
    // A FUSE layer answers reads with `try_read` when their bytes are here: once two
    // sequential reads have started the prefetcher, a whole file read that way arrives
    // intact, the prefetcher keeps fetching ahead (nothing else asks it to), and nothing is
    // fetched twice.
    let size = 3 * MIB as usize + 100;
    let (storage, vfs, contents) = setup(size, MIB).await;
    storage.record.piece_size.store(10_000, Ordering::SeqCst);
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    assert!(
        vfs.try_read(file.ino, fh, 0, 4096).is_none(),
        "nothing is fetched yet"
    );
    let mut out = vfs.read(file.ino, fh, 0, 4096).await.unwrap().to_vec();
    out.extend_from_slice(&vfs.read(file.ino, fh, 4096, 4096).await.unwrap());
    let len = 128 * KIB as u32;
    let mut waits = 0;
    while out.len() < size {
        match vfs.try_read(file.ino, fh, out.len() as u64, len) {
            Some(chunk) => out.extend_from_slice(&chunk.unwrap()),
            None => {
                waits += 1;
                assert!(waits < 10_000, "the prefetcher stalled at {}", out.len());
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
    }
    assert!(out == contents, "the bytes differ");
    let at_end = vfs.try_read(file.ino, fh, size as u64, len);
    assert!(at_end.unwrap().unwrap().is_empty());
    // Not the next read in sequence: it would wait (for an exact GET), and changes nothing:
    // the end of the file still comes at once, from the stream.
    assert!(vfs.try_read(file.ino, fh, 1000, 10).is_none());
    let last = vfs.try_read(file.ino, fh, size as u64 - 1, 1);
    assert_eq!(last.unwrap().unwrap(), contents[size - 1..]);
    vfs.release(file.ino, fh).await.unwrap();
    let mut gets = storage.take_gets();
    gets.sort_by_key(|r| r.start);
    assert_eq!(gets[0].start, 0);
    assert!(gets.windows(2).all(|w| w[0].end == w[1].start), "{gets:?}");
    assert_eq!(gets.last().unwrap().end, size as u64);
    // A handle released (or never opened) is refused at once.
    let released = vfs.try_read(file.ino, fh, 0, 1).unwrap();
    assert_eq!(errno(&released), libc::EBADF);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_answered_at_once_is_the_same_as_one_awaited() {
    // Reads of random sizes, each tried at once first and awaited when it would wait:
    // the bytes are the file's, whichever way each read went, pieces and ranges crossed.
    let size = 2 * MIB as usize + 777;
    let (storage, vfs, contents) = setup(size, MIB).await;
    storage.record.piece_size.store(3000, Ordering::SeqCst);
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    let (mut out, mut at_once, mut seed) = (Vec::new(), 0, 12345u64);
    while out.len() < size {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = 1 + (seed >> 33) as u32 % (200 * KIB as u32);
        let offset = out.len() as u64;
        let chunk = match vfs.try_read(file.ino, fh, offset, len) {
            Some(chunk) => {
                at_once += 1;
                chunk.unwrap()
            }
            None => vfs.read(file.ino, fh, offset, len).await.unwrap(),
        };
        assert!(!chunk.is_empty());
        out.extend_from_slice(&chunk);
    }
    assert!(out == contents, "the bytes differ");
    assert!(at_once > 0, "no read was answered at once");
    vfs.release(file.ino, fh).await.unwrap();
    // The stream was never restarted: nothing fetched twice.
    let mut gets = storage.take_gets();
    gets.sort_by_key(|r| r.start);
    assert!(gets.windows(2).all(|w| w[0].end == w[1].start), "{gets:?}");
    assert_eq!(gets.last().map(|r| r.end), Some(size as u64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answered_at_once_while_bodies_trickle_in() {
    // Bodies arrive a piece at a time: reads are tried at once while ranges are partly
    // received, and awaited when they would wait. Same bytes, nothing fetched twice; a body
    // that fails half way is an error, whichever way the read that meets it goes.
    let size = 3 * MIB as usize + 4321;
    let (storage, vfs, contents) = setup(size, MIB).await;
    storage.record.piece_size.store(7000, Ordering::SeqCst);
    storage.record.trickle.store(true, Ordering::SeqCst);
    let file = vfs.lookup(ROOT_INO, "file").await.unwrap();
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    let (mut out, mut at_once, mut waited) = (Vec::new(), 0, 0);
    while out.len() < size {
        let offset = out.len() as u64;
        let chunk = match vfs.try_read(file.ino, fh, offset, 128 * KIB as u32) {
            Some(chunk) => {
                at_once += 1;
                chunk.unwrap()
            }
            None => {
                waited += 1;
                vfs.read(file.ino, fh, offset, 128 * KIB as u32)
                    .await
                    .unwrap()
            }
        };
        out.extend_from_slice(&chunk);
    }
    vfs.release(file.ino, fh).await.unwrap();
    assert!(out == contents, "the bytes differ");
    assert!(
        at_once > 0 && waited > 0,
        "{at_once} at once, {waited} waited"
    );
    let mut gets = storage.take_gets();
    gets.sort_by_key(|r| r.start);
    assert!(gets.windows(2).all(|w| w[0].end == w[1].start), "{gets:?}");
    assert_eq!(gets.last().map(|r| r.end), Some(size as u64));

    storage.record.fail_get_midway.store(true, Ordering::SeqCst);
    let fh = vfs.open(file.ino, libc::O_RDONLY).await.unwrap();
    let mut at = 0u64;
    let e = loop {
        let result = match vfs.try_read(file.ino, fh, at, 128 * KIB as u32) {
            Some(result) => result,
            None => vfs.read(file.ino, fh, at, 128 * KIB as u32).await,
        };
        match result {
            Ok(chunk) if chunk.is_empty() => panic!("read to the end despite the failure"),
            Ok(chunk) => at += chunk.len() as u64,
            Err(e) => break e,
        }
    };
    assert_eq!(e.errno(), libc::EIO, "{e}");
    assert!(e.to_string().contains("injected"), "{e}");
    vfs.release(file.ino, fh).await.unwrap();
}
