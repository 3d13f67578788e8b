//! One UDP socket carries every peer of a worker. A datagram from a known remote address goes
//! to that address's PeerConnection; a STUN binding request names its PeerConnection in the
//! USERNAME attribute (`<our ufrag>:<their ufrag>`), which is how a new address is learned.
//! The PeerConnection then checks the request's MESSAGE-INTEGRITY itself.

/// RFC 7983: the first byte of a STUN message is 0..=3.
pub fn is_stun(p: &[u8]) -> bool {
    p.len() >= 20 && p[0] < 4 && p[4..8] == [0x21, 0x12, 0xa4, 0x42]
}

/// Our ufrag from a STUN message's USERNAME attribute.
pub fn local_ufrag(p: &[u8]) -> Option<&str> {
    if !is_stun(p) {
        return None;
    }
    let len = u16::from_be_bytes([p[2], p[3]]) as usize;
    let attrs = p.get(20..20 + len)?;
    let mut i = 0;
    while i + 4 <= attrs.len() {
        let typ = u16::from_be_bytes([attrs[i], attrs[i + 1]]);
        let alen = u16::from_be_bytes([attrs[i + 2], attrs[i + 3]]) as usize;
        let value = attrs.get(i + 4..i + 4 + alen)?;
        if typ == 0x0006 {
            let user = std::str::from_utf8(value).ok()?;
            return user.split(':').next();
        }
        i += 4 + alen.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = vec![];
        for (t, v) in attrs {
            body.extend_from_slice(&t.to_be_bytes());
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        let mut p = vec![0x00, 0x01];
        p.extend_from_slice(&(body.len() as u16).to_be_bytes());
        p.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
        p.extend_from_slice(&[7; 12]);
        p.extend_from_slice(&body);
        p
    }

    #[test]
    fn the_username_names_our_ufrag_past_other_attributes() {
        let p = stun(&[(0x8022, b"agent"), (0x0006, b"srvUfrag:cliUfrag")]);
        assert_eq!(local_ufrag(&p), Some("srvUfrag"));
    }

    #[test]
    fn truncated_or_foreign_datagrams_name_nobody() {
        let p = stun(&[(0x0006, b"abc:def")]);
        assert_eq!(local_ufrag(&p[..p.len() - 4]), None);
        assert_eq!(local_ufrag(&stun(&[(0x8022, b"x")])), None);
        // An RTP packet (first byte 0x80) and DTLS (20..=63) are not STUN.
        let mut rtp = p.clone();
        rtp[0] = 0x80;
        assert!(!is_stun(&rtp));
        assert_eq!(local_ufrag(&[0u8; 3]), None);
    }
}
