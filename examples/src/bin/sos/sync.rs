//! `sos sync`: a directory to a prefix, a prefix to a directory, or a prefix to another.
//!
//! Names as s3cmd and rsync give them: a source `dir/` (or `s3://b/dir/`) syncs what is in
//! `dir`, a local source `dir` syncs `dir` itself, as `DEST/dir/...`. A source `s3://b/dir`
//! is a key prefix (as s3cmd): every key starting with `dir` (`dir/...`, but also `dir2/...`,
//! `directory.txt`), named from `dir` on (`DEST/dir/...`, `DEST/dir2/...`), and the keys of
//! the destination starting with `dir` are the ones compared (and deleted). The destination
//! is a directory or a prefix (a `/` is added to an `s3://` one that has none).
//! `--exclude`/`--include` apply to these relative names on both sides: what they leave
//! out is neither sent nor deleted. Between two prefixes of one bucket, neither may hold
//! the other (what is copied would be a source next time, or deleted as stale).
//!
//! A file is unchanged when the other side has its size and its content: the MD5 of the
//! file for single-part objects; for multipart ones (ETag `...-N`), the multipart ETag of
//! the file cut in parts of a size that gives N parts (this tool's part size, the usual ones
//! of other tools such as s3cmd's 15 MiB, the smallest whole MiB), or else the MD5 s3cmd
//! keeps in `x-amz-meta-s3cmd-attrs` (one HEAD). Anything else counts as changed and is
//! sent again: safe, if not minimal.
//! Between two prefixes, objects are unchanged when size and ETag are equal.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use sos_client::Client;

use crate::args::{Transfer, Upload};
use crate::commands::{At, MIB, base_of, info, list_under, prefix_of, walk, warn_outside_folder};
use crate::copy::{CopySettings, copy_one};
use crate::download::{download, safe_relative_path};
use crate::filters::PathFilter;
use crate::plan::distinct_files;
use crate::target::{S3Path, is_s3};
use crate::upload::{flag_metadata, guess_content_type, upload_acl, upload_file};
use crate::{Failure, Outcome};

pub(crate) struct SyncOptions {
    pub(crate) delete_removed: bool,
    pub(crate) dry_run: bool,
    pub(crate) skip_existing: bool,
    pub(crate) check_md5: bool,
    pub(crate) quiet: bool,
    pub(crate) transfer: Transfer,
    pub(crate) upload: Upload,
    pub(crate) filter: PathFilter,
}

/// Where an entry of one side is.
#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    Object(S3Path),
}

#[derive(Debug, Clone)]
struct Entry {
    size: u64,
    /// The ETag of an object.
    etag: Option<String>,
    location: Location,
}

/// Which relative names of the destination belong to what the source names.
enum Scope {
    /// Everything starting with this (`dir/` for a directory, a key prefix's tail).
    Prefix(String),
    /// One file's name.
    Exact(String),
}

impl Scope {
    fn contains(&self, rel: &str) -> bool {
        match self {
            Scope::Prefix(p) => rel.starts_with(p.as_str()),
            Scope::Exact(name) => rel == name,
        }
    }

    /// Whether `rel` lies in the folder the source names: all of `Prefix` when it ends
    /// with `/` (or is empty), else the name itself or what is below it as a folder.
    fn in_folder(&self, rel: &str) -> bool {
        match self {
            Scope::Prefix(p) if !p.is_empty() && !p.ends_with('/') => {
                rel == p
                    || rel
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            }
            _ => self.contains(rel),
        }
    }

    fn prefix(&self) -> &str {
        match self {
            Scope::Prefix(p) | Scope::Exact(p) => p,
        }
    }
}

type Tree = BTreeMap<String, Entry>;

pub(crate) async fn sync(
    client: &Client,
    source: &str,
    dest: &str,
    options: &SyncOptions,
) -> Outcome {
    if is_s3(source) && is_s3(dest) {
        overlap(&S3Path::parse(source)?, &S3Path::parse(dest)?)?;
    }
    let (tree, scope) = if is_s3(source) {
        remote_source(client, &S3Path::parse(source)?, options).await?
    } else {
        local_source(Path::new(source), source.ends_with('/'), options)?
    };
    let (verb, other) = match (is_s3(source), is_s3(dest)) {
        (false, true) => (
            "upload",
            remote_dest(client, &S3Path::parse(dest)?, &scope, options).await?,
        ),
        (true, false) => ("download", local_dest(Path::new(dest), &scope, options)?),
        (true, true) => (
            "remote copy",
            remote_dest(client, &S3Path::parse(dest)?, &scope, options).await?,
        ),
        (false, false) => {
            return Err(Failure::Usage(
                "sync needs an s3:// URI on one side (or both)".to_owned(),
            ));
        }
    };
    let dest_root = Destination::new(dest)?;
    if let Destination::Dir(dir) = &dest_root {
        // Checked before the first download: `x` and `x/y` cannot both be files.
        let files: Vec<(String, PathBuf)> = tree
            .iter()
            .filter(|(rel, _)| safe_relative_path(rel))
            .map(|(rel, entry)| (describe(&entry.location), dir.join(rel)))
            .collect();
        distinct_files(
            "sync",
            files.iter().map(|(from, to)| (from.clone(), to.as_path())),
        )?;
    }
    let acl = upload_acl(&options.upload)?;
    let flags = flag_metadata(&options.upload)?;
    let copy_settings = CopySettings::from_flags(&options.upload)?;
    let dry = if options.dry_run { "(dry run) " } else { "" };
    let (mut sent, mut unchanged, mut skipped) = (0, 0, 0);
    for (rel, entry) in &tree {
        if let Some(existing) = other.get(rel)
            && (options.skip_existing || same(client, entry, existing, options).await?)
        {
            unchanged += 1;
            continue;
        }
        let target = dest_root.at(rel);
        if let Location::File(_) = &target
            && !safe_relative_path(rel)
        {
            info(
                options.quiet,
                &format!("skip: '{}' (not a file path)", describe(&entry.location)),
            );
            skipped += 1;
            continue;
        }
        info(
            options.quiet,
            &format!(
                "{dry}{verb}: '{}' -> '{}'",
                describe(&entry.location),
                describe(&target)
            ),
        );
        if !options.dry_run {
            match (&entry.location, &target) {
                (Location::File(file), Location::Object(object)) => {
                    let mut meta = flags.clone();
                    if meta.content_type.is_none() {
                        meta = meta.content_type(guess_content_type(file));
                    }
                    upload_file(
                        client,
                        file,
                        object,
                        meta,
                        acl,
                        options.transfer,
                        options.quiet,
                    )
                    .await?;
                }
                (Location::Object(object), Location::File(file)) => {
                    download(
                        client,
                        object,
                        file,
                        Some(entry.size),
                        options.transfer,
                        options.quiet,
                    )
                    .await?;
                }
                (Location::Object(from), Location::Object(to)) => {
                    copy_one(client, from, to, &copy_settings).await?;
                }
                (Location::File(_), Location::File(_)) => {}
            }
        }
        sent += 1;
    }
    let mut deleted = 0;
    if options.delete_removed {
        // A source named without its trailing `/` is a key prefix (`dir` also takes
        // `dir2/` and `dirt.txt`), but only what lies in the folder it names is deleted
        // from the destination: `dirt.txt` there was not named (s3cmd deletes it).
        let (stale, kept): (Vec<_>, Vec<_>) = other
            .iter()
            .filter(|(rel, _)| !tree.contains_key(*rel))
            .partition(|(rel, _)| scope.in_folder(rel));
        if let (Some((first, _)), false) = (kept.first(), options.quiet) {
            eprintln!(
                "warning: not deleting {first}{} outside {}/: the source names that folder \
                 (end it with / to name it alone)",
                match kept.len() - 1 {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                },
                scope.prefix()
            );
        }
        let stale: Vec<&Entry> = stale.into_iter().map(|(_, e): (&String, _)| e).collect();
        for entry in &stale {
            info(
                options.quiet,
                &format!("{dry}delete: '{}'", describe(&entry.location)),
            );
        }
        if !options.dry_run {
            delete(client, &stale).await?;
        }
        deleted = stale.len();
    }
    let verb = match verb {
        "upload" => "uploaded",
        "download" => "downloaded",
        _ => "copied",
    };
    let skipped = if skipped > 0 {
        format!(", {skipped} skipped")
    } else {
        String::new()
    };
    info(
        options.quiet,
        &format!("{dry}Done: {sent} {verb}, {unchanged} unchanged, {deleted} deleted{skipped}"),
    );
    Ok(())
}

/// Refuses a sync between prefixes of one bucket where one holds the other: the copies of
/// `sync s3://b/d/ s3://b/d/sub/` would be synced again next time (into `d/sub/sub/`),
/// and `sync --delete-removed s3://b/d/sub/ s3://b/d/` would delete its own source.
fn overlap(source: &S3Path, dest: &S3Path) -> Outcome {
    let root = prefix_of(&dest.key);
    if source.bucket == dest.bucket
        && (root.starts_with(&source.key) || source.key.starts_with(&root))
    {
        return Err(Failure::Usage(format!(
            "sync {} {}: one is inside the other; sync between prefixes that do not overlap",
            source.uri(),
            dest.with_key(root).uri()
        )));
    }
    Ok(())
}

/// The destination root: a directory, or a bucket and a prefix ending with `/`.
enum Destination {
    Dir(PathBuf),
    Prefix(S3Path),
}

impl Destination {
    fn new(dest: &str) -> Result<Self, Failure> {
        Ok(if is_s3(dest) {
            let path = S3Path::parse(dest)?;
            let prefix = prefix_of(&path.key);
            Destination::Prefix(path.with_key(prefix))
        } else {
            Destination::Dir(PathBuf::from(dest))
        })
    }

    fn at(&self, rel: &str) -> Location {
        match self {
            Destination::Dir(dir) => Location::File(dir.join(rel)),
            Destination::Prefix(p) => Location::Object(p.with_key(format!("{}{rel}", p.key))),
        }
    }
}

fn describe(location: &Location) -> String {
    match location {
        Location::File(file) => file.display().to_string(),
        Location::Object(object) => object.uri(),
    }
}

fn local_source(
    source: &Path,
    trailing_slash: bool,
    options: &SyncOptions,
) -> Result<(Tree, Scope), Failure> {
    let metadata = std::fs::metadata(source)
        .map_err(|e| Failure::Usage(format!("{}: {e}", source.display())))?;
    let name = source
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned);
    let mut tree = Tree::new();
    let scope = if metadata.is_dir() {
        let root = match name {
            Some(name) if !trailing_slash => format!("{name}/"),
            _ => String::new(),
        };
        for (file, rel) in walk(source)? {
            let rel = format!("{root}{rel}");
            if options.filter.accepts(&rel) {
                let size = std::fs::metadata(&file)?.len();
                tree.insert(rel, local_entry(file, size));
            }
        }
        Scope::Prefix(root)
    } else {
        let name = name.ok_or_else(|| {
            Failure::Usage(format!("{}: not a file or directory", source.display()))
        })?;
        if options.filter.accepts(&name) {
            tree.insert(name.clone(), local_entry(source.to_owned(), metadata.len()));
        }
        Scope::Exact(name)
    };
    Ok((tree, scope))
}

fn local_entry(file: PathBuf, size: u64) -> Entry {
    Entry {
        size,
        etag: None,
        location: Location::File(file),
    }
}

async fn remote_source(
    client: &Client,
    source: &S3Path,
    options: &SyncOptions,
) -> Result<(Tree, Scope), Failure> {
    let base = base_of(&source.key).len();
    let objects = list_under(client, source, &PathFilter::default()).await?;
    if objects.is_empty() {
        // S3 has no folders: an empty prefix is a missing one (a typo must not empty the
        // destination with --delete-removed).
        return Err(Failure::NotFound(format!(
            "no object under {}",
            source.uri()
        )));
    }
    warn_outside_folder(
        source,
        objects
            .iter()
            .filter(|o| options.filter.accepts(&o.key[base..]))
            .map(|o| o.key.as_str()),
        options.quiet,
    );
    let mut tree = Tree::new();
    for o in objects {
        let rel = o.key[base..].to_owned();
        if options.filter.accepts(&rel) {
            tree.insert(
                rel,
                Entry {
                    size: o.size,
                    etag: o.etag,
                    location: Location::Object(source.with_key(o.key)),
                },
            );
        }
    }
    Ok((tree, Scope::Prefix(source.key[base..].to_owned())))
}

async fn remote_dest(
    client: &Client,
    dest: &S3Path,
    scope: &Scope,
    options: &SyncOptions,
) -> Result<Tree, Failure> {
    let root = prefix_of(&dest.key);
    let listed = dest.with_key(format!("{root}{}", scope.prefix()));
    let mut tree = Tree::new();
    for o in list_under(client, &listed, &PathFilter::default()).await? {
        let rel = o.key[root.len()..].to_owned();
        if scope.contains(&rel) && options.filter.accepts(&rel) {
            tree.insert(
                rel,
                Entry {
                    size: o.size,
                    etag: o.etag,
                    location: Location::Object(dest.with_key(o.key)),
                },
            );
        }
    }
    Ok(tree)
}

fn local_dest(dir: &Path, scope: &Scope, options: &SyncOptions) -> Result<Tree, Failure> {
    let mut tree = Tree::new();
    if !dir.exists() {
        return Ok(tree);
    }
    if !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    for (file, rel) in walk(dir)? {
        if scope.contains(&rel) && options.filter.accepts(&rel) {
            let size = std::fs::metadata(&file)?.len();
            tree.insert(rel, local_entry(file, size));
        }
    }
    Ok(tree)
}

/// Whether two entries hold the same content (see the module's rules).
async fn same(
    client: &Client,
    a: &Entry,
    b: &Entry,
    options: &SyncOptions,
) -> Result<bool, Failure> {
    if a.size != b.size {
        return Ok(false);
    }
    if !options.check_md5 {
        return Ok(true);
    }
    let (file, object, etag) = match (&a.location, &b.location) {
        (Location::File(file), Location::Object(object)) => (file, object, &b.etag),
        (Location::Object(object), Location::File(file)) => (file, object, &a.etag),
        _ => return Ok(a.etag.is_some() && a.etag == b.etag),
    };
    let Some(etag) = etag else { return Ok(false) };
    let parts = etag
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse::<u64>().ok());
    let candidates = match parts {
        Some(n) => part_sizes_for(a.size, n, options.transfer.part_size_mib * MIB),
        None => Vec::new(),
    };
    let file_clone = file.clone();
    let (md5, etags) = tokio::task::spawn_blocking(move || digests(&file_clone, &candidates))
        .await
        .map_err(|e| Failure::Other(e.to_string()))??;
    if parts.is_none() {
        return Ok(md5 == *etag);
    }
    if etags.iter().any(|e| e == etag) {
        return Ok(true);
    }
    // Uploaded in other parts: s3cmd keeps the whole file's MD5 in its metadata.
    let info = client
        .head_object(&object.bucket, &object.key)
        .await
        .at(object.uri())?;
    Ok(info
        .metadata
        .user
        .get("s3cmd-attrs")
        .and_then(|attrs| attrs.split('/').find_map(|kv| kv.strip_prefix("md5:")))
        == Some(md5.as_str()))
}

async fn delete(client: &Client, stale: &[&Entry]) -> Outcome {
    let mut by_bucket: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for entry in stale {
        match &entry.location {
            Location::File(file) => std::fs::remove_file(file)
                .map_err(|e| Failure::Other(format!("{}: {e}", file.display())))?,
            Location::Object(o) => by_bucket.entry(&o.bucket).or_default().push(&o.key),
        }
    }
    for (bucket, keys) in by_bucket {
        let out = client
            .delete_objects(bucket, &keys)
            .await
            .at(format!("s3://{bucket}/"))?;
        if let Some(e) = out.errors.first() {
            return Err(Failure::Other(format!(
                "cannot delete s3://{bucket}/{}: {}",
                e.key, e.code
            )));
        }
    }
    Ok(())
}

/// The part sizes that split `size` bytes into `parts` parts: this tool's, then the usual
/// ones of S3 tools (s3cmd's 15 MiB, the AWS CLI's 8 MiB, ...) and the smallest whole MiB.
fn part_sizes_for(size: u64, parts: u64, ours: u64) -> Vec<u64> {
    let mut sizes = vec![ours];
    sizes.extend([5, 8, 10, 15, 16, 25, 32, 50, 64, 100, 128, 256, 512].map(|m| m * MIB));
    if parts > 0 {
        sizes.push(size.div_ceil(parts).div_ceil(MIB) * MIB);
    }
    let mut out: Vec<u64> = Vec::new();
    for p in sizes {
        if p > 0 && size.div_ceil(p) == parts && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The MD5 of a file, and the multipart ETag it gets in parts of each of `part_sizes`
/// (the MD5 of the parts' MD5s, `-`, the number of parts), in one read.
fn digests(file: &Path, part_sizes: &[u64]) -> std::io::Result<(String, Vec<String>)> {
    struct Parts {
        size: u64,
        in_part: u64,
        part: Md5,
        of_parts: Md5,
        count: u64,
    }
    let mut reader = std::fs::File::open(file)?;
    let mut whole = Md5::new();
    let mut splits: Vec<Parts> = part_sizes
        .iter()
        .map(|&size| Parts {
            size: size.max(1),
            in_part: 0,
            part: Md5::new(),
            of_parts: Md5::new(),
            count: 0,
        })
        .collect();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        whole.update(&buf[..n]);
        for split in &mut splits {
            let mut data = &buf[..n];
            while !data.is_empty() {
                let room = usize::try_from(split.size - split.in_part).unwrap_or(usize::MAX);
                let take = room.min(data.len());
                split.part.update(&data[..take]);
                split.in_part += take as u64;
                data = &data[take..];
                if split.in_part == split.size {
                    let digest = split.part.finalize_reset();
                    split.of_parts.update(digest);
                    split.count += 1;
                    split.in_part = 0;
                }
            }
        }
    }
    let etags = splits
        .into_iter()
        .map(|mut split| {
            if split.in_part > 0 {
                let digest = split.part.finalize_reset();
                split.of_parts.update(digest);
                split.count += 1;
            }
            format!("{}-{}", hex(&split.of_parts.finalize()), split.count)
        })
        .collect();
    Ok((hex(&whole.finalize()), etags))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_folder_is_cleaned() {
        let named = Scope::Prefix("dir".to_owned());
        for (rel, inside) in [
            ("dir", true),
            ("dir/a", true),
            ("dir/sub/b", true),
            ("dir2/b", false),
            ("dirt.txt", false),
            ("other", false),
        ] {
            assert_eq!(named.in_folder(rel), inside, "{rel}");
        }
        let folder = Scope::Prefix("dir/".to_owned());
        assert!(folder.in_folder("dir/a") && !folder.in_folder("dir2/a"));
        assert!(Scope::Prefix(String::new()).in_folder("anything"));
        assert!(Scope::Exact("f".to_owned()).in_folder("f"));
    }

    #[test]
    fn etags_of_single_and_multipart_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"hello").unwrap();
        let (md5, none) = digests(&file, &[]).unwrap();
        assert_eq!(md5, "5d41402abc4b2a76b9719d911017c592");
        assert!(none.is_empty());
        std::fs::write(&file, b"0123456789").unwrap();
        // Parts "01234" and "56789"; "012", "345", "678", "9".
        let etag = |parts: &[&[u8]]| {
            let mut all = Md5::new();
            for part in parts {
                all.update(Md5::digest(part));
            }
            format!("{}-{}", hex(&all.finalize()), parts.len())
        };
        let (_, etags) = digests(&file, &[5, 3]).unwrap();
        assert_eq!(etags[0], etag(&[b"01234", b"56789"]));
        assert_eq!(etags[1], etag(&[b"012", b"345", b"678", b"9"]));
    }

    #[test]
    fn part_sizes_that_give_the_count() {
        // 20 MiB in 2 parts: s3cmd's 15 MiB, 16 MiB and 10 MiB (the smallest) fit; 8 does not.
        let sizes = part_sizes_for(20 * MIB, 2, 8 * MIB);
        assert!(sizes.contains(&(15 * MIB)) && sizes.contains(&(10 * MIB)));
        assert!(!sizes.contains(&(8 * MIB)));
        // 20 MiB in 3 parts: this tool's 8 MiB, first.
        assert_eq!(part_sizes_for(20 * MIB, 3, 8 * MIB)[0], 8 * MIB);
        assert!(part_sizes_for(20 * MIB, 4, 8 * MIB).contains(&(5 * MIB)));
    }

    #[test]
    fn prefixes_that_overlap() {
        let check = |a: &str, b: &str| {
            overlap(&S3Path::parse(a).unwrap(), &S3Path::parse(b).unwrap()).is_ok()
        };
        assert!(!check("s3://b/d/", "s3://b/d/sub/"));
        assert!(!check("s3://b/d/sub/", "s3://b/d/"));
        assert!(!check("s3://b/d/", "s3://b/d"));
        assert!(!check("s3://b/dir", "s3://b/dir2/"));
        assert!(!check("s3://b/", "s3://b/backup/"));
        assert!(!check("s3://b/d/", "s3://b"));
        assert!(check("s3://b/d/", "s3://b/e/"));
        assert!(check("s3://b/d/", "s3://c/d/"));
        assert!(check("s3://b/dir/", "s3://b/dir2/"));
        assert!(check("s3://b/d2/", "s3://b/d"));
    }

    #[test]
    fn scopes() {
        assert!(Scope::Prefix("dir/".into()).contains("dir/a"));
        assert!(!Scope::Prefix("dir/".into()).contains("dirx/a"));
        assert!(Scope::Prefix(String::new()).contains("anything"));
        assert!(Scope::Exact("a.txt".into()).contains("a.txt"));
        assert!(!Scope::Exact("a.txt".into()).contains("a.txt.bak"));
    }
}
