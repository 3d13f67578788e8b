//! Objects kept outside the table (chat attachments; recordings later): the [`ObjectStore`]
//! port, which S3 implements in `stratus-dynamo`, and [`memory::MemoryObjects`], the embedded
//! twin the local stack serves over loopback. One conformance suite
//! (`stratus_tests::conformance::objects`) runs on both.
//!
//! Clients never send files through the API: they get a presigned request (a URL that is its
//! own authorization, for a while) and talk to the store directly. An upload is signed for one
//! key, one content type and one size, so the store itself refuses a different file; what
//! arrived is checked again ([`ObjectStore::head`]) before anything refers to it. An upload
//! counts as *pending* until [`ObjectStore::keep`]: the store's lifecycle removes pending
//! objects a day after they were written (orphans of uploads never attached).

use crate::clock::Millis;
use async_trait::async_trait;

/// How long a pending (never kept) object lives before the lifecycle removes it.
pub const PENDING_LIFETIME_MS: Millis = 24 * 3600 * 1000;

/// What the store holds under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: Option<String>,
}

/// A request a client makes itself: the method, the URL, and headers it must send as given
/// (they are part of the signature; a browser sets `content-length` from the body itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// An upload to presign: exactly `size` bytes of `content_type` to `key`.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub key: &'a str,
    pub content_type: &'a str,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// The store did not answer, or answered with an error (retry later).
    #[error("object store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// A PUT of [`Upload`], valid from `now` until `expires_at`. The object it writes is
    /// pending until [`ObjectStore::keep`].
    async fn presign_put(&self, up: &Upload<'_>, now: Millis, expires_at: Millis) -> Result<Presigned, ObjectError>;

    /// A GET of `key`, valid from `now` until `expires_at`, that downloads as `file_name`.
    async fn presign_get(
        &self,
        key: &str,
        file_name: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<String, ObjectError>;

    /// What is stored under `key`, if anything.
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, ObjectError>;

    /// Takes `key` out of the pending lifecycle: it stays until deleted.
    async fn keep(&self, key: &str) -> Result<(), ObjectError>;

    /// Removes `key` (nothing there is not an error).
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;

    /// The object's address without a signature: names it (seed 003's attachment `url`), and
    /// is no use for reading it.
    fn object_url(&self, key: &str) -> String;
}

/// `s` percent-encoded for a URL's path or query: unreserved characters (and `/` in a path)
/// as they are, every other byte as `%XX`.
pub fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub mod memory {
    //! The embedded object store: objects in memory, presigned URLs signed with a key of this
    //! process (HMAC-SHA256) and served by the local stack at `<base>/<key>`
    //! (`stratus_api::objects`). It refuses what S3 refuses for a presigned request: a bad or
    //! expired signature, another content type or length than signed (`403`, S3's error
    //! codes in its XML shape); and it runs the same pending lifecycle.
    //!
    //! The request handling is here without I/O ([`MemoryObjects::check_put`],
    //! [`MemoryObjects::put`], [`MemoryObjects::get`]); the HTTP around it is thin.

    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    /// Query parameters of the embedded store's presigned URLs.
    pub const EXPIRES: &str = "X-Stratus-Expires";
    pub const SIGNATURE: &str = "X-Stratus-Signature";
    pub const NAME: &str = "X-Stratus-Name";

    /// The largest object it takes (S3's single PUT takes 5 GB; the local stack is for
    /// development, and keeps everything in memory).
    pub const MAX_OBJECT_BYTES: u64 = 64 * 1024 * 1024;

    #[derive(Clone)]
    struct Stored {
        bytes: Arc<Vec<u8>>,
        content_type: String,
        written_at: Millis,
        kept: bool,
    }

    /// Why a request to the store was refused: the HTTP status and S3's error code.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Refused {
        pub status: u16,
        pub code: &'static str,
        pub message: String,
    }

    fn refused(status: u16, code: &'static str, message: impl Into<String>) -> Refused {
        Refused { status, code, message: message.into() }
    }

    /// An object as a presigned GET serves it.
    #[derive(Debug, Clone)]
    pub struct Served {
        pub bytes: Arc<Vec<u8>>,
        pub content_type: String,
        pub file_name: Option<String>,
    }

    pub struct MemoryObjects {
        base_url: String,
        key: [u8; 32],
        objects: Mutex<HashMap<String, Stored>>,
    }

    impl MemoryObjects {
        /// A store whose URLs start with `base_url` (e.g. `http://127.0.0.1:8080/_objects`),
        /// signing with a random key.
        pub fn new(base_url: impl Into<String>) -> Self {
            Self {
                base_url: base_url.into().trim_end_matches('/').to_owned(),
                key: rand::random(),
                objects: Mutex::default(),
            }
        }

        fn objects(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stored>> {
            self.objects.lock().unwrap_or_else(|e| e.into_inner())
        }

        fn sign(&self, parts: &[&str]) -> String {
            let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
            for p in parts {
                mac.update(p.as_bytes());
                mac.update(b"\n");
            }
            mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
        }

        fn verify(&self, parts: &[&str], sig: Option<&String>) -> bool {
            let want = self.sign(parts);
            sig.is_some_and(|s| subtle::ConstantTimeEq::ct_eq(s.as_bytes(), want.as_bytes()).into())
        }

        fn expiry(params: &HashMap<String, String>, now: Millis) -> Result<String, Refused> {
            let raw = params.get(EXPIRES).ok_or_else(|| refused(403, "AccessDenied", "not a presigned URL"))?;
            let at: Millis = raw.parse().map_err(|_| refused(403, "AccessDenied", "malformed expiry"))?;
            if now >= at {
                return Err(refused(403, "AccessDenied", "Request has expired"));
            }
            Ok(raw.clone())
        }

        /// The pending lifecycle: pending objects older than [`PENDING_LIFETIME_MS`] go.
        fn sweep(objects: &mut HashMap<String, Stored>, now: Millis) {
            objects.retain(|_, o| o.kept || now - o.written_at < PENDING_LIFETIME_MS);
        }

        /// A PUT's signature, content type and declared length, checked before its body is
        /// read; the length to read.
        pub fn check_put(
            &self,
            key: &str,
            params: &HashMap<String, String>,
            content_type: Option<&str>,
            content_length: Option<u64>,
            now: Millis,
        ) -> Result<u64, Refused> {
            let expires = Self::expiry(params, now)?;
            let len =
                content_length.ok_or_else(|| refused(411, "MissingContentLength", "Content-Length is required"))?;
            let ct = content_type.unwrap_or("");
            if !self.verify(&["PUT", key, &expires, ct, &len.to_string()], params.get(SIGNATURE)) {
                return Err(refused(
                    403,
                    "SignatureDoesNotMatch",
                    "The request signature does not match (key, content type and length are signed)",
                ));
            }
            if len > MAX_OBJECT_BYTES {
                return Err(refused(400, "EntityTooLarge", "larger than the embedded store takes"));
            }
            Ok(len)
        }

        /// Stores a PUT's body once [`Self::check_put`] passed; a body of another length than
        /// it declared is refused.
        pub fn put(
            &self,
            key: &str,
            content_type: &str,
            declared: u64,
            body: Vec<u8>,
            now: Millis,
        ) -> Result<(), Refused> {
            if body.len() as u64 != declared {
                return Err(refused(400, "IncompleteBody", "the body is not as long as Content-Length says"));
            }
            let mut objects = self.objects();
            Self::sweep(&mut objects, now);
            let stored =
                Stored { bytes: Arc::new(body), content_type: content_type.to_owned(), written_at: now, kept: false };
            objects.insert(key.to_owned(), stored);
            Ok(())
        }

        /// A presigned GET.
        pub fn get(&self, key: &str, params: &HashMap<String, String>, now: Millis) -> Result<Served, Refused> {
            let expires = Self::expiry(params, now)?;
            let name = params.get(NAME).map(String::as_str).unwrap_or("");
            if !self.verify(&["GET", key, &expires, name], params.get(SIGNATURE)) {
                return Err(refused(403, "SignatureDoesNotMatch", "The request signature does not match"));
            }
            let mut objects = self.objects();
            Self::sweep(&mut objects, now);
            let o = objects.get(key).ok_or_else(|| refused(404, "NoSuchKey", "The specified key does not exist."))?;
            Ok(Served {
                bytes: o.bytes.clone(),
                content_type: o.content_type.clone(),
                file_name: (!name.is_empty()).then(|| name.to_owned()),
            })
        }

        /// How many objects it holds (pending ones included).
        pub fn len(&self) -> usize {
            self.objects().len()
        }

        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// The pending lifecycle run at `now` (it also runs on every write and read).
        pub fn expire_pending(&self, now: Millis) {
            Self::sweep(&mut self.objects(), now);
        }
    }

    #[async_trait]
    impl ObjectStore for MemoryObjects {
        async fn presign_put(
            &self,
            up: &Upload<'_>,
            _now: Millis,
            expires_at: Millis,
        ) -> Result<Presigned, ObjectError> {
            let expires = expires_at.to_string();
            let sig = self.sign(&["PUT", up.key, &expires, up.content_type, &up.size.to_string()]);
            Ok(Presigned {
                method: "PUT",
                url: format!("{}?{EXPIRES}={expires}&{SIGNATURE}={sig}", self.object_url(up.key)),
                headers: vec![
                    ("content-type".into(), up.content_type.into()),
                    ("content-length".into(), up.size.to_string()),
                ],
            })
        }

        async fn presign_get(
            &self,
            key: &str,
            file_name: &str,
            _now: Millis,
            expires_at: Millis,
        ) -> Result<String, ObjectError> {
            let expires = expires_at.to_string();
            let sig = self.sign(&["GET", key, &expires, file_name]);
            let name = percent_encode(file_name, false);
            Ok(format!("{}?{EXPIRES}={expires}&{NAME}={name}&{SIGNATURE}={sig}", self.object_url(key)))
        }

        async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, ObjectError> {
            Ok(self
                .objects()
                .get(key)
                .map(|o| ObjectInfo { size: o.bytes.len() as u64, content_type: Some(o.content_type.clone()) }))
        }

        async fn keep(&self, key: &str) -> Result<(), ObjectError> {
            if let Some(o) = self.objects().get_mut(key) {
                o.kept = true;
            }
            Ok(())
        }

        async fn delete(&self, key: &str) -> Result<(), ObjectError> {
            self.objects().remove(key);
            Ok(())
        }

        fn object_url(&self, key: &str) -> String {
            format!("{}/{}", self.base_url, percent_encode(key, true))
        }
    }
}
