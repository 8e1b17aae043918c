//! Durable file writes: the one way this crate puts a file on disk that must
//! survive a crash or a power cut.
//!
//! Two modes:
//! - [`replace`]: the file is replaced as a whole, atomically. A reader (or
//!   a restart after a crash) sees the old contents or the new, never a mix
//!   or a truncated file. For state that is rewritten (the witness's
//!   last cosigned checkpoint).
//! - [`create_new`] and [`NewFile`]: the file is created, and it MUST NOT
//!   exist already: an existing file is never replaced or truncated (the
//!   error is [`std::io::ErrorKind::AlreadyExists`]). For private key files
//!   (mode 0600, [`FileMode::OwnerOnly`]) and the store's marker, whose
//!   exclusive creation is what makes two racing `init`s safe.
//!
//! A third, [`replace_unsynced`], is [`replace`] without the syncs, for
//! records that are only caches of what was verified.
//!
//! In both durable modes, when a write returns `Ok` the contents have been synced
//! (`fsync`) and so has the directory that holds the name: the file is on
//! disk under its final name. Callers MUST NOT report a file as written
//! before that.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Who may read a file made by [`create_new`] or [`NewFile::create`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileMode {
    /// The owner only (mode 0600, set at creation, never wider for an
    /// instant): for private keys.
    OwnerOnly,
    /// What the process's umask allows of 0666.
    Umask,
}

/// Replaces `path` with `contents` atomically: writes the temporary file
/// `<name>.tmp` in the same directory, syncs it, renames it over `path`, and
/// syncs the directory.
///
/// When this returns `Ok`, `path` holds `contents` durably. On an error, the
/// old file (if any) is untouched and the temporary file is removed (best
/// effort). Two writers of the same `path` MUST be serialised by the caller:
/// they share the temporary name.
pub(crate) fn replace(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_with(path, contents, true)
}

/// Replaces `path` with `contents` atomically like [`replace`], but syncs
/// nothing: after a power cut the file may hold its old contents. Only for
/// records that are caches of what was checked (trusted heads, the
/// acknowledged-head record), where a stale record costs a re-verification
/// and is never ahead of what it describes.
pub(crate) fn replace_unsynced(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_with(path, contents, false)
}

fn replace_with(path: &Path, contents: &[u8], sync: bool) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "a file path has a file name")
    })?;
    let mut temp_name = name.to_owned();
    temp_name.push(".tmp");
    let temp = path.with_file_name(temp_name);
    let written = File::create(&temp)
        .and_then(|mut f| {
            f.write_all(contents)?;
            if sync {
                f.sync_all()?;
            }
            Ok(())
        })
        .and_then(|()| fs::rename(&temp, path))
        .and_then(|()| if sync { sync_parent(path) } else { Ok(()) });
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Creates `path` with `contents` (see [`NewFile`]), refusing to replace an
/// existing file.
pub(crate) fn create_new(path: &Path, mode: FileMode, contents: &[u8]) -> io::Result<()> {
    NewFile::create(path, mode)?.commit(contents).map(drop)
}

/// A file just created exclusively (`O_CREAT | O_EXCL`), open for writing,
/// and not yet durable: [`NewFile::commit`] writes and syncs it.
///
/// Between the two, the caller may act on the open file (the store locks its
/// marker there, so that no other process sees it unlocked). Dropped without
/// a commit, the file stays as it is, empty: removing it is the caller's
/// decision.
#[derive(Debug)]
pub(crate) struct NewFile {
    file: File,
    path: PathBuf,
}

impl NewFile {
    /// Creates `path`, which MUST NOT exist: an existing file (or a link
    /// there, even a dangling one) is an [`io::ErrorKind::AlreadyExists`]
    /// error and is left untouched.
    pub(crate) fn create(path: &Path, mode: FileMode) -> io::Result<NewFile> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if mode == FileMode::OwnerOnly {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(NewFile {
            file: opts.open(path)?,
            path: path.to_owned(),
        })
    }

    /// The open file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Writes `contents`, syncs the file, then syncs its directory, and
    /// returns the still open file. When this returns `Ok`, the file is on
    /// disk under its name; on an error, it is removed (best effort), so no
    /// partial file is left behind.
    pub(crate) fn commit(mut self, contents: &[u8]) -> io::Result<File> {
        let written = self
            .file
            .write_all(contents)
            .and_then(|()| self.file.sync_all())
            .and_then(|()| sync_parent(&self.path));
        match written {
            Ok(()) => Ok(self.file),
            Err(e) => {
                let _ = fs::remove_file(&self.path);
                Err(e)
            }
        }
    }
}

/// Syncs the directory that holds `path`, so that a new or renamed name in
/// it is durable. Only where directories can be opened and synced (unix).
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        create_new(&p, FileMode::OwnerOnly, b"first").unwrap();
        let e = create_new(&p, FileMode::OwnerOnly, b"second").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        let e = NewFile::create(&p, FileMode::Umask).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"first");
        // Nor through a link, even one that points nowhere.
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
            let e = create_new(&link, FileMode::OwnerOnly, b"x").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
            assert!(!dir.path().join("nowhere").exists());
        }
    }

    #[cfg(unix)]
    #[test]
    fn owner_only_files_are_created_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        create_new(&p, FileMode::OwnerOnly, b"secret").unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_new_file_is_open_before_it_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("marker");
        let new = NewFile::create(&p, FileMode::Umask).unwrap();
        assert_eq!(new.file().metadata().unwrap().len(), 0);
        assert!(p.is_file());
        let f = new.commit(b"text").unwrap();
        assert_eq!(f.metadata().unwrap().len(), 4);
        assert_eq!(fs::read(&p).unwrap(), b"text");
    }

    #[test]
    fn replace_swaps_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state");
        replace(&p, b"one").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        // A temporary file left by a crash is overwritten, never read.
        fs::write(dir.path().join("state.tmp"), b"half-writ").unwrap();
        replace(&p, b"two, longer").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two, longer");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state"]);
    }

    /// Atomic: the target is replaced by a rename, so a file opened before
    /// the replace still reads the old contents in full, and a failed
    /// replace leaves the old file as it was.
    #[test]
    fn replace_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state");
        replace(&p, b"old contents").unwrap();
        let before = File::open(&p).unwrap();
        replace(&p, b"new").unwrap();
        assert_eq!(io::read_to_string(before).unwrap(), "old contents");
        assert_eq!(fs::read(&p).unwrap(), b"new");
        // The temporary name taken by a directory: the write fails before
        // the rename, and the old file stays whole.
        fs::create_dir(dir.path().join("state.tmp")).unwrap();
        assert!(replace(&p, b"newer").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"new");
    }
}
