//! What the node negotiates (codecs, header extensions, SRTP profiles) and what it must read
//! from a payload to forward it: keyframes (to start or switch a consumer) and VP8 temporal
//! layer ids (to thin a consumer's frame rate).

use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use stratus_protocol::media::{HeaderExtension, MediaKind, RtpCapabilities, RtpCodec};

pub const AUDIO_LEVEL_URI: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

/// Extensions that describe the publisher's leg, never the subscriber's: they are dropped
/// when a packet is forwarded (the consumer leg has its own mid/rid, and TWCC sequence
/// numbers belong to the transport they were sent on).
pub const LEG_LOCAL_URIS: [&str; 4] = [
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
];

struct CodecSpec {
    kind: MediaKind,
    mime: &'static str,
    clock_rate: u32,
    channels: u16,
    pt: u8,
    fmtp: &'static str,
}

const CODECS: [CodecSpec; 3] = [
    CodecSpec {
        kind: MediaKind::Audio,
        mime: MIME_TYPE_OPUS,
        clock_rate: 48000,
        channels: 2,
        pt: 111,
        fmtp: "minptime=10;useinbandfec=1",
    },
    CodecSpec { kind: MediaKind::Video, mime: MIME_TYPE_VP8, clock_rate: 90000, channels: 0, pt: 96, fmtp: "" },
    CodecSpec {
        kind: MediaKind::Video,
        mime: MIME_TYPE_H264,
        clock_rate: 90000,
        channels: 0,
        pt: 102,
        fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    },
];

fn video_feedback() -> Vec<RTCPFeedback> {
    // nack and nack pli come with the default interceptors.
    vec![RTCPFeedback { typ: "ccm".into(), parameter: "fir".into() }]
}

fn rtc_kind(kind: MediaKind) -> RtpCodecKind {
    match kind {
        MediaKind::Audio => RtpCodecKind::Audio,
        MediaKind::Video => RtpCodecKind::Video,
    }
}

/// A media engine with the node's codecs and extensions (the default interceptors add NACK,
/// TWCC receive, RTCP reports and the simulcast extensions on top).
pub fn media_engine() -> Result<MediaEngine, rtc::shared::error::Error> {
    let mut me = MediaEngine::default();
    for c in &CODECS {
        let rtcp_feedback = if c.kind == MediaKind::Video { video_feedback() } else { vec![] };
        me.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: c.mime.into(),
                    clock_rate: c.clock_rate,
                    channels: c.channels,
                    sdp_fmtp_line: c.fmtp.into(),
                    rtcp_feedback,
                },
                payload_type: c.pt,
            },
            rtc_kind(c.kind),
        )?;
    }
    me.register_header_extension(
        RTCRtpHeaderExtensionCapability { uri: AUDIO_LEVEL_URI.into() },
        RtpCodecKind::Audio,
        None,
    )?;
    Ok(me)
}

/// The capabilities clients are told about (`getRouterRtpCapabilities`).
pub fn capabilities() -> RtpCapabilities {
    let codecs = CODECS
        .iter()
        .map(|c| {
            let mut fb: Vec<String> = vec![];
            if c.kind == MediaKind::Video {
                fb = vec!["nack".into(), "nack pli".into(), "ccm fir".into(), "transport-cc".into()];
            }
            RtpCodec {
                kind: c.kind,
                mime_type: c.mime.into(),
                clock_rate: c.clock_rate,
                channels: (c.channels > 0).then_some(c.channels),
                payload_type: c.pt,
                sdp_fmtp_line: c.fmtp.into(),
                rtcp_feedback: fb,
            }
        })
        .collect();
    let mut header_extensions = vec![HeaderExtension { kind: MediaKind::Audio, uri: AUDIO_LEVEL_URI.into() }];
    for uri in LEG_LOCAL_URIS {
        header_extensions.push(HeaderExtension { kind: MediaKind::Video, uri: uri.into() });
    }
    RtpCapabilities { codecs, header_extensions }
}

/// The payload formats the forwarder understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Opus,
    Vp8,
    H264,
    Other,
}

impl Format {
    pub fn from_mime(mime: &str) -> Format {
        if mime.eq_ignore_ascii_case(MIME_TYPE_VP8) {
            Format::Vp8
        } else if mime.eq_ignore_ascii_case(MIME_TYPE_H264) {
            Format::H264
        } else if mime.eq_ignore_ascii_case(MIME_TYPE_OPUS) {
            Format::Opus
        } else {
            Format::Other
        }
    }
}

/// What the forwarder needs to know about one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayloadInfo {
    /// The first packet of a keyframe: a consumer may start or switch here.
    pub keyframe: bool,
    /// VP8 temporal layer id, when the payload descriptor carries one.
    pub temporal: Option<u8>,
}

pub fn inspect(format: Format, payload: &[u8]) -> PayloadInfo {
    match format {
        Format::Vp8 => vp8(payload),
        Format::H264 => PayloadInfo { keyframe: h264_keyframe(payload), temporal: None },
        Format::Opus | Format::Other => PayloadInfo { keyframe: true, temporal: None },
    }
}

/// RFC 7741 payload descriptor, then the VP8 frame tag's P bit (0 = key frame) on the first
/// packet of partition 0.
fn vp8(p: &[u8]) -> PayloadInfo {
    let mut info = PayloadInfo::default();
    let Some(&b0) = p.first() else { return info };
    let (x, s, pid) = (b0 & 0x80 != 0, b0 & 0x10 != 0, b0 & 0x07);
    let mut i = 1;
    if x {
        let Some(&b1) = p.get(i) else { return info };
        i += 1;
        let (has_i, has_l, has_t, has_k) = (b1 & 0x80 != 0, b1 & 0x40 != 0, b1 & 0x20 != 0, b1 & 0x10 != 0);
        if has_i {
            let Some(&m) = p.get(i) else { return info };
            i += if m & 0x80 != 0 { 2 } else { 1 };
        }
        if has_l {
            i += 1;
        }
        if has_t || has_k {
            let Some(&tk) = p.get(i) else { return info };
            if has_t {
                info.temporal = Some(tk >> 6);
            }
            i += 1;
        }
    }
    if s && pid == 0
        && let Some(&tag) = p.get(i)
    {
        info.keyframe = tag & 0x01 == 0;
    }
    info
}

/// RFC 6184: an IDR slice or an SPS, alone, in a STAP-A, or starting an FU-A.
fn h264_keyframe(p: &[u8]) -> bool {
    let Some(&b0) = p.first() else { return false };
    match b0 & 0x1f {
        5 | 7 => true,
        24 => {
            let mut i = 1;
            while i + 2 < p.len() {
                let len = u16::from_be_bytes([p[i], p[i + 1]]) as usize;
                if matches!(p[i + 2] & 0x1f, 5 | 7) {
                    return true;
                }
                i += 2 + len;
            }
            false
        }
        28 => p.get(1).is_some_and(|&h| h & 0x80 != 0 && matches!(h & 0x1f, 5 | 7)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_keyframes_are_found_past_the_extended_descriptor() {
        // X=1 S=1 PID=0; I=1 (15-bit picture id) T=1; TID=2; frame tag P=0.
        let key = [0x90, 0xa0, 0x80, 0x01, 0x80, 0x00];
        assert_eq!(vp8(&key), PayloadInfo { keyframe: true, temporal: Some(2) });
        let delta = [0x90, 0xa0, 0x80, 0x01, 0x40, 0x01];
        assert_eq!(vp8(&delta), PayloadInfo { keyframe: false, temporal: Some(1) });
        // Not the start of a partition: never a keyframe, whatever the next byte says.
        assert!(!vp8(&[0x00, 0x00]).keyframe);
        assert!(vp8(&[0x10, 0x00]).keyframe);
        assert_eq!(vp8(&[]), PayloadInfo::default());
        assert_eq!(vp8(&[0x90]), PayloadInfo::default());
    }

    #[test]
    fn h264_keyframes_in_single_stap_a_and_fu_a_packets() {
        assert!(h264_keyframe(&[0x65, 0x00]));
        assert!(!h264_keyframe(&[0x41, 0x00]));
        assert!(h264_keyframe(&[0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68]));
        assert!(!h264_keyframe(&[0x18, 0x00, 0x01, 0x41]));
        assert!(h264_keyframe(&[0x7c, 0x85]));
        assert!(!h264_keyframe(&[0x7c, 0x05]));
        assert!(!h264_keyframe(&[]));
    }
}
