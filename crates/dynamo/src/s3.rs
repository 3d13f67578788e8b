//! `ObjectStore` on S3: presigned PUTs with the content type, the length and the pending tag
//! in the signature (S3 refuses another file with `SignatureDoesNotMatch`), presigned GETs
//! that download under the attachment's name, and the pending lifecycle as a tag: uploads
//! carry `stratus-state=pending`, which the bucket's lifecycle rule (template.yaml) expires
//! after a day; [`ObjectStore::keep`] removes the tag.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stratus_core::clock::Millis;
use stratus_core::objects::{ObjectError, ObjectInfo, ObjectStore, Presigned, Upload, percent_encode};

/// The tag every upload carries until it is kept; the lifecycle rule filters on it.
pub const PENDING_TAG: &str = "stratus-state=pending";

pub struct S3Objects {
    client: Client,
    bucket: String,
    /// The bucket's address (virtual-hosted on AWS, path-style on an emulator).
    base: String,
}

fn unavailable(e: impl std::fmt::Display) -> ObjectError {
    ObjectError::Unavailable(e.to_string())
}

fn at(ms: Millis) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

fn presigning(now: Millis, expires_at: Millis) -> Result<PresigningConfig, ObjectError> {
    PresigningConfig::builder()
        .start_time(at(now))
        .expires_in(Duration::from_millis((expires_at - now).max(1000) as u64))
        .build()
        .map_err(unavailable)
}

impl S3Objects {
    /// On the shared SDK configuration. With `endpoint` (moto, LocalStack) requests and
    /// presigned URLs are path-style on it; otherwise the bucket's regional address.
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>, endpoint: Option<&str>) -> Self {
        let bucket = bucket.into();
        let mut b = aws_sdk_s3::config::Builder::from(sdk).timeout_config(crate::admin::timeouts());
        let base = match endpoint {
            Some(ep) => {
                b = b.endpoint_url(ep).force_path_style(true);
                format!("{}/{bucket}", ep.trim_end_matches('/'))
            }
            None => {
                let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
                format!("https://{bucket}.s3.{region}.amazonaws.com")
            }
        };
        Self { client: Client::from_conf(b.build()), bucket, base }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl ObjectStore for S3Objects {
    async fn presign_put(&self, up: &Upload<'_>, now: Millis, expires_at: Millis) -> Result<Presigned, ObjectError> {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(up.key)
            .content_type(up.content_type)
            .content_length(i64::try_from(up.size).map_err(unavailable)?)
            .tagging(PENDING_TAG)
            .presigned(presigning(now, expires_at)?)
            .await
            .map_err(unavailable)?;
        Ok(Presigned {
            method: "PUT",
            url: req.uri().to_owned(),
            headers: req.headers().map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).collect(),
        })
    }

    async fn presign_get(
        &self,
        key: &str,
        file_name: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<String, ObjectError> {
        let disposition = format!("attachment; filename*=UTF-8''{}", percent_encode(file_name, false));
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(disposition)
            .presigned(presigning(now, expires_at)?)
            .await
            .map_err(unavailable)?;
        Ok(req.uri().to_owned())
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, ObjectError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => Ok(Some(ObjectInfo {
                size: o.content_length().unwrap_or(0).max(0) as u64,
                content_type: o.content_type().map(str::to_owned),
            })),
            Err(e) => match e.into_service_error() {
                e if e.is_not_found() => Ok(None),
                e => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
            },
        }
    }

    async fn keep(&self, key: &str) -> Result<(), ObjectError> {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        match self.client.delete_object_tagging().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(()),
            // Nothing there to keep (deleted meanwhile): as the embedded store, not an error.
            Err(e) if e.code() == Some("NoSuchKey") => Ok(()),
            Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    fn object_url(&self, key: &str) -> String {
        format!("{}/{}", self.base, percent_encode(key, true))
    }
}
