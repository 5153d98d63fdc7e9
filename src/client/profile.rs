//! Profiles: where a device keeps its server address, user, token and local database.
//! `KAZI_HOME` overrides the XDG data directory; the token file is readable by its owner only.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::Role;
use crate::protocol::{LoginRequest, LoginResponse};

use super::remote::{Remote, RemoteError};
use super::store::{LocalStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "no profile '{0}' here ({1}); log in first: kazi login --server URL --user NAME --code CODE"
    )]
    Missing(String, String),
    #[error("profile name '{0}' must be letters, digits, '-' or '_'")]
    BadName(String),
    #[error("cannot find a home directory; set KAZI_HOME")]
    NoHome,
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("profile '{name}' cannot be written: {source}")]
    Encode {
        name: String,
        #[source]
        source: toml::ser::Error,
    },
    #[error("{path}: profile file is damaged: {message}; log in again")]
    Damaged { path: String, message: String },
    #[error("login failed: {0}")]
    Login(#[from] RemoteError),
    #[error("server URL '{0}' must start with http:// or https://")]
    BadServer(String),
    /// Another user may not take over a profile whose answers are not sent yet: they
    /// would go to the server under the wrong name and be refused.
    #[error(
        "profile '{profile}' holds {unsent} unsent answer(s) of {user}; send them first (kazi sync --profile {profile}) or log in on another profile (--profile NAME)"
    )]
    UnsentOfOtherUser {
        profile: String,
        user: String,
        unsent: u32,
    },
    #[error("kazi work is open on profile '{0}'; quit it before logging in again")]
    InUse(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A logged-in device: enough to talk to the server as this user.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub dir: PathBuf,
    pub server: String,
    pub user: String,
    pub role: Role,
    pub token: String,
    /// Tasks to keep cached for offline work (`prefetch = N` in profile.toml).
    pub prefetch: usize,
}

/// Default of `prefetch`: a morning's work for a fast worker on a link that drops.
pub const DEFAULT_PREFETCH: usize = crate::model::DEFAULT_PREFETCH as usize;
const MAX_PREFETCH: usize = 2000;
/// The local store's file in a profile's folder.
const DB_FILE: &str = "client.db";
/// Held by `kazi work` while its screen is open (tui::run); login takes it too, so a
/// user switch never clears the cache under an open screen.
const WORK_LOCK: &str = "work.lock";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    server: String,
    user: String,
    role: Role,
    #[serde(default = "default_prefetch")]
    prefetch: usize,
}

fn default_prefetch() -> usize {
    DEFAULT_PREFETCH
}

/// The directory holding all profiles: `$KAZI_HOME`, else `$XDG_DATA_HOME/kazi`, else
/// `~/.local/share/kazi`.
pub fn kazi_home() -> Result<PathBuf, ProfileError> {
    if let Some(dir) = std::env::var_os("KAZI_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir).join("kazi"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or(ProfileError::NoHome)?;
    Ok(PathBuf::from(home).join(".local/share/kazi"))
}

fn io_err(path: &Path, source: std::io::Error) -> ProfileError {
    ProfileError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn check_name(name: &str) -> Result<(), ProfileError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ProfileError::BadName(name.to_string()))
    }
}

impl Profile {
    /// The folder of profile `name` (default "default") under `home`.
    pub fn dir_for(home: &Path, name: &str) -> PathBuf {
        home.join(name)
    }

    /// Load a profile written by `login`.
    pub fn load(home: &Path, name: &str) -> Result<Profile, ProfileError> {
        check_name(name)?;
        let dir = Self::dir_for(home, name);
        let file = dir.join("profile.toml");
        let text = match fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProfileError::Missing(
                    name.into(),
                    dir.display().to_string(),
                ));
            }
            Err(e) => return Err(io_err(&file, e)),
        };
        let pf: ProfileFile = toml::from_str(&text).map_err(|e| ProfileError::Damaged {
            path: file.display().to_string(),
            message: e.message().to_string(),
        })?;
        if !(1..=MAX_PREFETCH).contains(&pf.prefetch) {
            return Err(ProfileError::Damaged {
                path: file.display().to_string(),
                message: format!("prefetch must be between 1 and {MAX_PREFETCH}"),
            });
        }
        let token_path = dir.join("token");
        let token = fs::read_to_string(&token_path)
            .map_err(|e| io_err(&token_path, e))?
            .trim()
            .to_string();
        Ok(Profile {
            name: name.into(),
            dir,
            server: pf.server,
            user: pf.user,
            role: pf.role,
            token,
            prefetch: pf.prefetch,
        })
    }

    /// The local database of this profile.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    /// Point this profile at another server address (the demo's port changes each run).
    pub fn set_server(&mut self, server: &str) -> Result<(), ProfileError> {
        self.server = server.trim_end_matches('/').to_string();
        self.save()
    }

    fn save(&self) -> Result<(), ProfileError> {
        fs::create_dir_all(&self.dir).map_err(|e| io_err(&self.dir, e))?;
        let pf = ProfileFile {
            server: self.server.clone(),
            user: self.user.clone(),
            role: self.role,
            prefetch: self.prefetch,
        };
        let text = toml::to_string(&pf).map_err(|source| ProfileError::Encode {
            name: self.name.clone(),
            source,
        })?;
        let file = self.dir.join("profile.toml");
        fs::write(&file, text).map_err(|e| io_err(&file, e))?;
        write_private(&self.dir.join("token"), self.token.as_bytes())
    }
}

/// Write a secret readable by its owner only (mode 0600), replacing any older file.
fn write_private(path: &Path, data: &[u8]) -> Result<(), ProfileError> {
    let _ = fs::remove_file(path);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| io_err(path, e))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_err(path, e))
}

/// Take the lock `kazi work` holds while open, or say that it is open.
fn lock_screen(dir: &Path, name: &str) -> Result<fs::File, ProfileError> {
    let path = dir.join(WORK_LOCK);
    let lock = fs::File::create(&path).map_err(|e| io_err(&path, e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(ProfileError::InUse(name.into())),
        Err(fs::TryLockError::Error(e)) => Err(io_err(&path, e)),
    }
}

/// Exchange a one-time enrolment code for a device token and store it as profile `name`.
pub fn login(
    home: &Path,
    name: &str,
    server: &str,
    user: &str,
    code: &str,
) -> Result<Profile, ProfileError> {
    check_name(name)?;
    let server = server.trim().trim_end_matches('/').to_string();
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(ProfileError::BadServer(server));
    }
    let dir = Profile::dir_for(home, name);
    let _screen_closed = if dir.exists() {
        Some(lock_screen(&dir, name)?)
    } else {
        None
    };
    // A missing or damaged profile is replaced by this login; whoever it belonged to,
    // its store is treated as another user's (checked and cleared below).
    let previous = Profile::load(home, name).ok();
    let unsent_of_other = |unsent: u32| ProfileError::UnsentOfOtherUser {
        profile: name.into(),
        user: previous.as_ref().map_or_else(
            || "the last user".to_string(),
            |p| crate::model::sanitize_line(&p.user).into_owned(),
        ),
        unsent,
    };
    let db_path = dir.join(DB_FILE);
    let same_user = |u: &str| previous.as_ref().is_some_and(|p| p.user == u);
    // Checked before the code is spent: refusing after would waste the enrolment.
    if !same_user(user.trim()) && db_path.exists() {
        let unsent = LocalStore::open(&db_path)?.counts(None)?.unsent;
        if unsent > 0 {
            return Err(unsent_of_other(unsent));
        }
    }
    let device = std::env::var("HOSTNAME").unwrap_or_else(|_| "terminal".into());
    let request = LoginRequest {
        user: user.trim().into(),
        code: code.trim().into(),
        device,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| io_err(home, e))?;
    let LoginResponse {
        token, user, role, ..
    } = rt.block_on(Remote::new(&server, "")?.login(&request))?;
    if db_path.exists() {
        let mut store = LocalStore::open(&db_path)?;
        if same_user(&user) {
            store.forget_reply_numbers()?;
        } else {
            // Checks again, in the same transaction as the clearing: an answer saved
            // since the check above is kept, and the login not saved.
            store.forget_user().map_err(|e| match e {
                StoreError::Unsent(unsent) => unsent_of_other(unsent),
                other => other.into(),
            })?;
        }
    }
    let profile = Profile {
        name: name.into(),
        dir: Profile::dir_for(home, name),
        server,
        user,
        role,
        token,
        // Logging in again keeps a prefetch the centre set for this device.
        prefetch: previous.map_or(DEFAULT_PREFETCH, |p| p.prefetch),
    };
    profile.save()?;
    Ok(profile)
}
