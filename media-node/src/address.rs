//! The address the node announces in its ICE candidates and in the registry, which on a
//! cloud host is not the one it binds (`0.0.0.0`, behind a 1:1 NAT).
//!
//! `STRATUS_PUBLIC_IP` says how to find it:
//! - an IP address: that address (any host, or a NAT whose public side you know);
//! - `ecs`: an ECS task. The task metadata endpoint (`ECS_CONTAINER_METADATA_URI_V4`, which
//!   ECS injects) gives the container's network; for `awsvpc` (Fargate) the public IP is that
//!   of the task's network interface, which only EC2 knows (`DescribeNetworkInterfaces` by
//!   private IP, signed with the task role); for `host`/`bridge` networking (ECS on EC2) it
//!   is the instance's, from IMDSv2;
//! - `imds`: an EC2 instance, from IMDSv2 (`AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides the
//!   endpoint, as for the AWS SDKs).
//!
//! Endpoints are read from the environment so tests point them at fakes (task metadata,
//! IMDS) and at moto (EC2).

use crate::aws_query::{self, tag};
use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Fixed(IpAddr),
    Ecs,
    Imds,
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Source, String> {
        match s {
            "ecs" => Ok(Source::Ecs),
            "imds" => Ok(Source::Imds),
            ip => ip
                .parse()
                .map(Source::Fixed)
                .map_err(|_| format!("STRATUS_PUBLIC_IP must be an IP address, `ecs` or `imds`, not {ip:?}")),
        }
    }
}

/// What discovery found: the announced address and, where known, the private one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    pub public: IpAddr,
    pub private: Option<IpAddr>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerMetadata {
    #[serde(default)]
    networks: Vec<Network>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Network {
    network_mode: String,
    #[serde(default, rename = "IPv4Addresses")]
    ipv4_addresses: Vec<String>,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client builds")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Finds the node's addresses. Cloud lookups are retried a few times (metadata services
/// can lag the container's start by a moment); a missing setting fails at once.
pub async fn discover(source: &Source) -> Result<Addresses, String> {
    if *source == Source::Ecs && env("ECS_CONTAINER_METADATA_URI_V4").is_none() {
        return Err("STRATUS_PUBLIC_IP=ecs but ECS_CONTAINER_METADATA_URI_V4 is not set (not an ECS task?)".into());
    }
    let once = || async {
        match source {
            Source::Fixed(ip) => Ok(Addresses { public: *ip, private: None }),
            Source::Ecs => ecs().await,
            Source::Imds => imds().await,
        }
    };
    let mut last = String::new();
    for attempt in 0..4 {
        match once().await {
            Ok(a) => return Ok(a),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
    }
    Err(last)
}

async fn ecs() -> Result<Addresses, String> {
    let base = env("ECS_CONTAINER_METADATA_URI_V4").ok_or("ECS_CONTAINER_METADATA_URI_V4 is not set")?;
    let meta: ContainerMetadata = http()
        .get(&base)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("task metadata: {e}"))?
        .json()
        .await
        .map_err(|e| format!("task metadata: {e}"))?;
    let net = meta.networks.first().ok_or("task metadata lists no network")?;
    if net.network_mode != "awsvpc" {
        // ECS on EC2 with host or bridge networking: the instance's address.
        return imds().await;
    }
    let private: IpAddr = net
        .ipv4_addresses
        .first()
        .and_then(|a| a.parse().ok())
        .ok_or("task metadata has no IPv4 address for the awsvpc network")?;
    let public = interface_public_ip(private).await?;
    Ok(Addresses { public, private: Some(private) })
}

/// The public IP associated with the network interface holding `private`, from EC2.
async fn interface_public_ip(private: IpAddr) -> Result<IpAddr, String> {
    let ec2 = aws_query::Client::new(aws_config::load_from_env().await);
    let params = [
        ("Filter.1.Name".to_owned(), "addresses.private-ip-address".to_owned()),
        ("Filter.1.Value.1".to_owned(), private.to_string()),
    ];
    let xml = ec2.call(&aws_query::EC2, "DescribeNetworkInterfaces", &params).await?;
    public_ip_of(&xml).ok_or_else(|| format!("the network interface of {private} has no public IP (AssignPublicIp?)"))
}

/// The `association/publicIp` of the first interface in a DescribeNetworkInterfaces reply.
fn public_ip_of(xml: &str) -> Option<IpAddr> {
    let assoc = tag(xml, "association")?;
    tag(assoc, "publicIp")?.parse().ok()
}

/// IMDSv2: a session token, then `public-ipv4` and `local-ipv4`.
async fn imds() -> Result<Addresses, String> {
    let base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_else(|| "http://169.254.169.254".into());
    let base = base.trim_end_matches('/');
    let c = http();
    let token = c
        .put(format!("{base}/latest/api/token"))
        .header("X-aws-ec2-metadata-token-ttl-seconds", "60")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("IMDSv2 token: {e}"))?
        .text()
        .await
        .map_err(|e| format!("IMDSv2 token: {e}"))?;
    let get = |what: &'static str| {
        let req = c.get(format!("{base}/latest/meta-data/{what}")).header("X-aws-ec2-metadata-token", &token);
        async move {
            let text = req
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| format!("IMDSv2 {what}: {e}"))?
                .text()
                .await
                .map_err(|e| format!("IMDSv2 {what}: {e}"))?;
            text.trim().parse::<IpAddr>().map_err(|_| format!("IMDSv2 {what} is not an IP address"))
        }
    };
    let public = get("public-ipv4").await?;
    Ok(Addresses { public, private: get("local-ipv4").await.ok() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse() {
        assert_eq!("ecs".parse::<Source>(), Ok(Source::Ecs));
        assert_eq!("imds".parse::<Source>(), Ok(Source::Imds));
        assert_eq!("203.0.113.9".parse::<Source>(), Ok(Source::Fixed([203, 0, 113, 9].into())));
        assert!("auto-ish".parse::<Source>().is_err());
    }

    #[test]
    fn the_public_ip_comes_from_the_association_not_the_private_address() {
        let xml = "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item>\
            <privateIpAddress>10.0.1.5</privateIpAddress>\
            <association><ipOwnerId>amazon</ipOwnerId><publicIp>198.51.100.7</publicIp></association>\
            </item></networkInterfaceSet></DescribeNetworkInterfacesResponse>";
        assert_eq!(public_ip_of(xml), Some([198, 51, 100, 7].into()));
        assert_eq!(public_ip_of("<networkInterfaceSet/>"), None);
    }
}
