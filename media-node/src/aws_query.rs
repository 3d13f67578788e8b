//! The two AWS calls the node makes besides DynamoDB and the Management API, in AWS's query
//! protocol (a SigV4-signed form POST, an XML reply): EC2 `DescribeNetworkInterfaces` (its
//! public address on Fargate) and CloudWatch `PutMetricData` (its load).
//!
//! Why not the SDK crates: `aws-sdk-ec2` is by far the largest SDK crate for one call, and
//! `aws-sdk-cloudwatch` now speaks only the rpc-v2-cbor protocol, which neither moto nor
//! LocalStack serve, so the node's metrics could not be tested; both services still accept
//! the query protocol. Signing is `aws-sigv4`, credentials and region come from
//! `aws-config`'s default chain (the ECS task role in production).

use std::time::{Duration, SystemTime};

pub struct Service {
    /// SigV4 signing name, and the endpoint's host prefix.
    pub name: &'static str,
    /// The `AWS_ENDPOINT_URL_<ID>` suffix the SDKs use for a per-service endpoint.
    pub env_id: &'static str,
    pub version: &'static str,
}

pub const EC2: Service = Service { name: "ec2", env_id: "EC2", version: "2016-11-15" };
pub const CLOUDWATCH: Service = Service { name: "monitoring", env_id: "CLOUDWATCH", version: "2010-08-01" };

pub struct Client {
    sdk: aws_config::SdkConfig,
    http: reqwest::Client,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Client {
    pub fn new(sdk: aws_config::SdkConfig) -> Client {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client builds");
        Client { sdk, http }
    }

    /// Calls `action` with `params`; the reply's XML, or the error's code and message.
    pub async fn call(&self, svc: &Service, action: &str, params: &[(String, String)]) -> Result<String, String> {
        let region = self.sdk.region().ok_or("no AWS region (AWS_REGION)")?.to_string();
        let creds = {
            use aws_credential_types::provider::ProvideCredentials;
            self.sdk
                .credentials_provider()
                .ok_or("no AWS credentials")?
                .provide_credentials()
                .await
                .map_err(|e| format!("AWS credentials: {e}"))?
        };
        let endpoint = env(&format!("AWS_ENDPOINT_URL_{}", svc.env_id))
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://{}.{region}.amazonaws.com", svc.name));
        let url = format!("{}/", endpoint.trim_end_matches('/'));
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", action)
            .append_pair("Version", svc.version)
            .extend_pairs(params)
            .finish();
        let mut req = http::Request::post(&url)
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(body)
            .map_err(|e| e.to_string())?;
        {
            use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
            let identity = creds.into();
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region(&region)
                .name(svc.name)
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .map_err(|e| e.to_string())?
                .into();
            let headers = req.headers().iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default()));
            let signable = SignableRequest::new("POST", &url, headers, SignableBody::Bytes(req.body().as_bytes()))
                .map_err(|e| format!("signing {action}: {e}"))?;
            let (instructions, _) = sign(signable, &params).map_err(|e| format!("signing {action}: {e}"))?.into_parts();
            instructions.apply_to_request_http1x(&mut req);
        }
        let req = reqwest::Request::try_from(req).map_err(|e| e.to_string())?;
        let res = self.http.execute(req).await.map_err(|e| format!("{action}: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("{action}: {e}"))?;
        if status.is_success() {
            Ok(text)
        } else {
            let code = tag(&text, "Code").unwrap_or("unknown error");
            Err(format!("{action} answered {status}: {code}"))
        }
    }
}

/// The text of the first `<name>…</name>` in `xml`. (One value out of a small reply: a
/// substring walk rather than an XML crate.)
pub fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..start + len].trim())
}
