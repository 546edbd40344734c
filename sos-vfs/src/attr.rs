//! What the file system answers: attributes, directory entries, `statfs`, and the
//! attribute changes `setattr` is asked for.

use std::time::SystemTime;

/// The inode number of the root directory.
pub const ROOT_INO: u64 = 1;

/// A file or a directory (there are no links or special files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// A regular file: an object.
    File,
    /// A directory: a key prefix, or a local directory made by `mkdir`.
    Directory,
}

/// The attributes of a file or directory, as `stat` shows them.
///
/// Size and times come from the object (`Content-Length`, and `Last-Modified` for the
/// modification, access and change times alike); owner and permissions are the same for
/// every file, from the options. Directories, which S3 does not store, show the time the
/// file system was made (local directories too). A file being written shows the bytes
/// written so far and the time it was created (or, when it replaces an object, the
/// object's time), until `setattr` changes its access or modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileAttr {
    /// The inode number.
    pub ino: u64,
    /// File or directory.
    pub kind: FileKind,
    /// Size in bytes (0 for directories; the bytes written so far for a file being
    /// written).
    pub size: u64,
    /// Modification time.
    pub mtime: SystemTime,
    /// Access time (the modification time, unless `setattr` changed it on a file being
    /// written or a local directory).
    pub atime: SystemTime,
    /// Change time (the modification time, or the creation time of a local file).
    pub ctime: SystemTime,
    /// Permission bits (`0o644`-like, without the file type).
    pub perm: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Hard links: 1 for files, 2 for directories.
    pub nlink: u32,
}

impl FileAttr {
    /// 512-byte blocks, as `st_blocks` counts them.
    pub fn blocks(&self) -> u64 {
        self.size.div_ceil(512)
    }

    /// The mode with the file type (`S_IFREG | perm` or `S_IFDIR | perm`).
    pub fn mode(&self) -> u32 {
        let kind = match self.kind {
            FileKind::File => libc::S_IFREG,
            FileKind::Directory => libc::S_IFDIR,
        };
        // `mode_t` is `u32` on Linux and `u16` on macOS.
        #[allow(clippy::useless_conversion)]
        let kind = u32::from(kind);
        kind | u32::from(self.perm)
    }
}

/// An entry of a directory listing, from [`Vfs::readdir`](crate::Vfs::readdir).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirEntry {
    /// The name (`.` and `..` first, then names in byte order).
    pub name: String,
    /// The offset to pass to `readdir` to continue after this entry.
    pub offset: u64,
    /// The entry's attributes (its inode number and kind included), for `readdirplus`.
    pub attr: FileAttr,
}

/// What `statfs` answers. S3 has no capacity or inode limits, so the numbers are large and
/// fixed, exactly Mountpoint's: `u64::MAX / 1024` blocks and inodes, all free, blocks of
/// 512 bytes, names up to 255 bytes, a fragment size of 0 (the kernel then reports the
/// block size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statfs {
    /// Total blocks of `block_size`.
    pub blocks: u64,
    /// Free blocks.
    pub blocks_free: u64,
    /// Free blocks for unprivileged users.
    pub blocks_available: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub files_free: u64,
    /// Block size (`f_bsize`).
    pub block_size: u32,
    /// Longest name (`f_namemax`).
    pub max_name_length: u32,
    /// Fragment size (`f_frsize`).
    pub fragment_size: u32,
}

impl Statfs {
    pub(crate) const MOUNTPOINT: Statfs = Statfs {
        blocks: u64::MAX / 1024,
        blocks_free: u64::MAX / 1024,
        blocks_available: u64::MAX / 1024,
        files: u64::MAX / 1024,
        files_free: u64::MAX / 1024,
        block_size: 512,
        max_name_length: 255,
        fragment_size: 0,
    };
}

/// The changes `setattr` is asked for (`chmod`, `chown`, `truncate`, `utimes`); `None`
/// leaves a value as it is.
///
/// ```
/// use sos_vfs::SetAttr;
/// let chmod = SetAttr::default().with_mode(0o600);
/// assert_eq!(chmod.mode, Some(0o600));
/// assert_eq!(chmod.size, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetAttr {
    /// New permission bits (`chmod`).
    pub mode: Option<u32>,
    /// New owner (`chown`).
    pub uid: Option<u32>,
    /// New group (`chown`).
    pub gid: Option<u32>,
    /// New size (`truncate`).
    pub size: Option<u64>,
    /// New access time.
    pub atime: Option<SystemTime>,
    /// New modification time.
    pub mtime: Option<SystemTime>,
}

impl SetAttr {
    /// Sets the mode.
    #[must_use]
    pub fn with_mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sets the owner.
    #[must_use]
    pub fn with_uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// Sets the group.
    #[must_use]
    pub fn with_gid(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }

    /// Sets the size.
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Sets the access time.
    #[must_use]
    pub fn with_atime(mut self, time: SystemTime) -> Self {
        self.atime = Some(time);
        self
    }

    /// Sets the modification time.
    #[must_use]
    pub fn with_mtime(mut self, time: SystemTime) -> Self {
        self.mtime = Some(time);
        self
    }
}
