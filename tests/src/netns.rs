//! Hosts that cannot reach each other, made by the test: one network namespace per host,
//! joined to this (the root) namespace by a veth pair. A host has no default route: it
//! reaches its own gateway address (the root end of its veth, where the local stack
//! listens) and the lab's one shared address (`Lab::turn_ip`, where coturn listens and
//! relays), nothing else: not the other hosts, not the root's loopback (where the in-process
//! media node listens), not the outside. So the only common reachable address of any two
//! hosts, and of a host and the media node, is coturn's.
//!
//! Needs root and iproute2 (`ip netns`, veth). Everything is removed on drop.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Host {
    /// The namespace's name (`ip netns exec <name> …`).
    pub ns: String,
    pub ip: Ipv4Addr,
    /// The root end of its link: where it reaches services in the root namespace.
    pub gateway: Ipv4Addr,
}

pub struct Lab {
    pub hosts: Vec<Host>,
    /// An address of the root namespace every host can reach (a /32 on the root's `lo`).
    pub turn_ip: Ipv4Addr,
    veths: Vec<String>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("iproute2's `ip` (apt-get install iproute2)");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

impl Lab {
    /// `n` isolated hosts. Subnets `10.<k>.<i>.0/24` with `k` picked per lab so that
    /// concurrent labs (and test processes) do not collide.
    pub fn new(n: usize) -> Lab {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}{seq}", std::process::id() % 100_000);
        let k = 100 + ((std::process::id() + seq * 7) % 150) as u8;
        let turn_ip = Ipv4Addr::new(10, k, 250, 1);
        ip(&["addr", "add", &format!("{turn_ip}/32"), "dev", "lo"]);
        let mut lab = Lab { hosts: Vec::new(), turn_ip, veths: Vec::new() };
        for i in 0..n {
            let ns = format!("st{tag}h{i}");
            let (outer, inner) = (format!("sto{tag}{i}"), format!("sti{tag}{i}"));
            let gateway = Ipv4Addr::new(10, k, i as u8 + 1, 1);
            let host_ip = Ipv4Addr::new(10, k, i as u8 + 1, 2);
            ip(&["netns", "add", &ns]);
            lab.hosts.push(Host { ns: ns.clone(), ip: host_ip, gateway });
            ip(&["link", "add", &outer, "type", "veth", "peer", "name", &inner]);
            lab.veths.push(outer.clone());
            ip(&["link", "set", &inner, "netns", &ns]);
            ip(&["addr", "add", &format!("{gateway}/24"), "dev", &outer]);
            ip(&["link", "set", &outer, "up"]);
            ip(&["-n", &ns, "addr", "add", &format!("{host_ip}/24"), "dev", &inner]);
            ip(&["-n", &ns, "link", "set", &inner, "up"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&["-n", &ns, "route", "add", &format!("{turn_ip}/32"), "via", &gateway.to_string()]);
        }
        lab
    }

    /// `program` run inside `host`'s namespace.
    pub fn command(&self, host: usize, program: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("ip");
        cmd.args(["netns", "exec", &self.hosts[host].ns, program]);
        cmd
    }

    /// Whether `host` can open a TCP connection to `addr` (a reachability probe from inside).
    pub fn can_connect(&self, host: usize, addr: std::net::SocketAddr) -> bool {
        let script = format!("exec 3<>/dev/tcp/{}/{}", addr.ip(), addr.port());
        Command::new("ip")
            .args(["netns", "exec", &self.hosts[host].ns, "timeout", "2", "bash", "-c", &script])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth end inside it, and so the pair.
        for h in &self.hosts {
            let _ = Command::new("ip").args(["netns", "delete", &h.ns]).status();
        }
        for v in &self.veths {
            let _ = Command::new("ip").args(["link", "delete", v]).output();
        }
        let _ = Command::new("ip").args(["addr", "delete", &format!("{}/32", self.turn_ip), "dev", "lo"]).status();
    }
}
