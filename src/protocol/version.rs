//! Protocol versions: each request says which version its client speaks (the
//! `Kazi-Protocol` header; absent means 1, the clients made before versioning), and a
//! server serves its own version and the one either side, because centres do not update
//! every machine at once. Outside that, the refusal says which side to update.

/// The protocol this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The request header that carries the client's protocol version.
pub const PROTOCOL_HEADER: &str = "kazi-protocol";

/// Why a server does not serve a request's protocol version. The text is shown to the
/// worker as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error(
        "this server speaks Kazi protocol {server} and this Kazi speaks {client}; update Kazi on this computer"
    )]
    ClientTooOld { client: u32, server: u32 },
    #[error(
        "this server speaks Kazi protocol {server} and this Kazi speaks {client}; ask your admin to update the server"
    )]
    ServerTooOld { client: u32, server: u32 },
    #[error("the Kazi-Protocol header must be a whole number, got '{0}'")]
    Unreadable(String),
}

/// The version a request declares in its `Kazi-Protocol` header (absent: 1).
pub fn request_version(header: Option<&[u8]>) -> Result<u32, VersionError> {
    let Some(raw) = header else {
        return Ok(1);
    };
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| {
            let shown: String = String::from_utf8_lossy(raw).chars().take(20).collect();
            VersionError::Unreadable(crate::model::sanitize_line(&shown).into_owned())
        })
}

/// Whether a server speaking `server` serves a client speaking `client`.
pub fn served(client: u32, server: u32) -> Result<(), VersionError> {
    if client.saturating_add(1) < server {
        Err(VersionError::ClientTooOld { client, server })
    } else if client > server.saturating_add(1) {
        Err(VersionError::ServerTooOld { client, server })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_a_version_is_version_one() {
        assert_eq!(request_version(None), Ok(1));
        assert_eq!(request_version(Some(b" 2 ")), Ok(2));
        assert!(matches!(
            request_version(Some(b"two")),
            Err(VersionError::Unreadable(s)) if s == "two"
        ));
    }

    #[test]
    fn one_version_apart_is_served_and_further_says_who_updates() {
        for client in [4, 5, 6] {
            assert_eq!(served(client, 5), Ok(()), "client {client}");
        }
        let old = served(3, 5).unwrap_err();
        assert!(
            old.to_string().ends_with("update Kazi on this computer"),
            "{old}"
        );
        let new = served(7, 5).unwrap_err();
        assert!(
            new.to_string()
                .ends_with("ask your admin to update the server"),
            "{new}"
        );
        assert_eq!(served(u32::MAX, u32::MAX), Ok(()));
        assert!(served(0, u32::MAX).is_err());
    }
}
