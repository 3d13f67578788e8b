// 1:1 calls, peer to peer (docs/api.md "Calls", docs/signaling.md).
//
// The calls REST API rings the callee (`incoming-call` on their connections) and tracks the
// call's state (`call-status` to both). Media goes browser to browser: both sides join the
// call's signaling room (`call:<id>`) and exchange offer, answer and ICE candidates through
// the WebSocket relay. The caller offers, once the callee is in the room, so there is never
// glare. Hanging up on either side ends the call on both.

import { Emitter } from './emitter.js';
import { StratusError, mediaError } from './errors.js';
import type { CallEvent, CallStatus, CallType, EndReason, Relayed } from './protocol.js';
import type { RestClient } from './api.js';
import type { IceServers } from './ice.js';
import type { Signaling } from './signaling.js';

export interface CallMediaOptions {
  /** Tracks to send; captured with getUserMedia (audio, and video for video calls) when absent. */
  stream?: MediaStream;
  /** Fixed ICE servers for this call (default: the client's `ice`). */
  iceServers?: RTCIceServer[];
  /** Where the peer connection gets its ICE configuration (set by `StratusClient`). */
  ice?: IceServers;
}

export interface CallEvents {
  /** The other side's media arrived (or changed). */
  remoteStream: MediaStream;
  status: CallStatus;
  /** The call is over (hung up on either side, failed, or never answered). */
  ended: { reason?: EndReason; outcome?: string; durationSeconds?: number };
  connectionState: RTCPeerConnectionState;
  error: StratusError;
}

export class Call extends Emitter<CallEvents> {
  status: CallStatus = 'connecting';
  readonly remoteStream = new MediaStream();
  localStream: MediaStream | null = null;
  pc: RTCPeerConnection | null = null;
  private peerId: string | null = null;
  private offered = false;
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private offs: (() => void)[] = [];
  private finished = false;

  constructor(
    private readonly sig: Signaling,
    private readonly api: RestClient,
    readonly callId: string,
    readonly role: 'caller' | 'callee',
    readonly callType: CallType,
    /** The other side's user id. */
    readonly peerUserId: string,
    readonly room: string,
    /** The client's ICE servers, used when `answer`/`start` are given none. */
    private readonly ice?: IceServers,
  ) {
    super();
    this.offs.push(
      sig.on('call-status', (e) => {
        if (e.callId !== this.callId) return;
        this.setStatus(e.status);
        if (e.status === 'ended' || e.status === 'failed') this.finish(e);
      }),
    );
  }

  /** The callee accepts: answers through the API, then waits for the caller's offer. */
  async answer(opts: CallMediaOptions = {}): Promise<void> {
    if (this.role !== 'callee') throw new StratusError('FORBIDDEN', 'only the callee answers');
    try {
      await this.prepare(opts);
      await this.api.answerCall(this.callId);
      await this.joinRoom();
    } catch (e) {
      // Too late (the caller hung up), or no camera: release what was taken.
      this.finish({ status: (e as StratusError).code === 'CALL_ALREADY_ENDED' ? 'ended' : 'failed' });
      throw e;
    }
  }

  /** Ends the call for both sides (declines it, if not answered yet). */
  async hangup(reason: EndReason = 'user_hangup'): Promise<void> {
    if (this.finished) return;
    try {
      await this.api.endCall(this.callId, reason);
    } catch (e) {
      if ((e as StratusError).code !== 'CALL_ALREADY_ENDED') throw e;
    }
    this.finish({ reason });
  }

  /** @internal the caller's side, right after initiating. */
  async start(opts: CallMediaOptions): Promise<void> {
    await this.prepare(opts);
    await this.joinRoom();
  }

  private async prepare(opts: CallMediaOptions) {
    if (opts.stream) this.localStream = opts.stream;
    else {
      try {
        this.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.callType === 'video' });
      } catch (e) {
        throw mediaError('getUserMedia', e);
      }
    }
    const ice = opts.ice ?? this.ice;
    const pc =
      opts.iceServers || !ice
        ? new RTCPeerConnection({ iceServers: opts.iceServers ?? [] })
        : ice.track(new RTCPeerConnection(await ice.config()));
    this.pc = pc;
    for (const t of this.localStream.getTracks()) pc.addTrack(t, this.localStream);
    pc.ontrack = (ev) => {
      if (!this.remoteStream.getTracks().includes(ev.track)) this.remoteStream.addTrack(ev.track);
      this.emit('remoteStream', this.remoteStream);
    };
    pc.onicecandidate = (ev) => {
      if (ev.candidate && this.peerId) this.relay('candidate', { candidate: ev.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      this.emit('connectionState', pc.connectionState);
      // ICE gave up: end the call for both sides rather than leave it hanging.
      if (pc.connectionState === 'failed') void this.hangup('connection_failed').catch(() => undefined);
    };
    this.offs.push(
      this.sig.on('user-joined', (d) => {
        if (d.room === this.room && d.userId === this.peerUserId) this.peerArrived(d.peerId);
      }),
      this.sig.on('offer', (d) => void this.onOffer(d)),
      this.sig.on('answer', (d) => void this.onAnswer(d)),
      this.sig.on('candidate', (d) => void this.onCandidate(d)),
    );
  }

  private async joinRoom() {
    const j = await this.sig.request('join', { room: this.room });
    const peer = j.peers.find((p) => p.userId === this.peerUserId);
    if (peer) this.peerArrived(peer.peerId);
  }

  private peerArrived(peerId: string) {
    this.peerId = peerId;
    if (this.role === 'caller' && !this.offered) {
      this.offered = true;
      void this.offer().catch((e) => this.emit('error', e));
    }
  }

  private async offer() {
    const pc = this.pc!;
    await pc.setLocalDescription(await pc.createOffer());
    this.relay('offer', { sdp: pc.localDescription!.toJSON() });
  }

  private mine(d: Relayed): boolean {
    return d.room === this.room && d.fromUser === this.peerUserId && !!this.pc;
  }

  private async onOffer(d: Relayed) {
    if (!this.mine(d) || this.role !== 'callee') return;
    this.peerId = d.from;
    const pc = this.pc!;
    try {
      await pc.setRemoteDescription(desc(d.sdp, 'offer'));
      await this.flushCandidates();
      await pc.setLocalDescription(await pc.createAnswer());
      this.relay('answer', { sdp: pc.localDescription!.toJSON() });
    } catch (e) {
      this.emit('error', mediaError('answering the offer', e));
    }
  }

  private async onAnswer(d: Relayed) {
    if (!this.mine(d) || this.role !== 'caller') return;
    try {
      await this.pc!.setRemoteDescription(desc(d.sdp, 'answer'));
      await this.flushCandidates();
    } catch (e) {
      this.emit('error', mediaError('applying the answer', e));
    }
  }

  private async onCandidate(d: Relayed) {
    if (!this.mine(d) || !d.candidate) return;
    const c = typeof d.candidate === 'string' ? { candidate: d.candidate, sdpMid: '0' } : d.candidate;
    if (!this.pc!.remoteDescription) this.pendingCandidates.push(c);
    else await this.pc!.addIceCandidate(c).catch(() => undefined);
  }

  private async flushCandidates() {
    for (const c of this.pendingCandidates.splice(0)) await this.pc!.addIceCandidate(c).catch(() => undefined);
  }

  private relay(type: 'offer' | 'answer' | 'candidate', data: Record<string, unknown>) {
    try {
      this.sig.send(type, { ...data, to: this.peerId, room: this.room });
    } catch (e) {
      this.emit('error', e as StratusError);
    }
  }

  private setStatus(s: CallStatus) {
    if (this.status !== s) {
      this.status = s;
      this.emit('status', s);
    }
  }

  private finish(e: Partial<CallEvent>) {
    if (this.finished) return;
    this.finished = true;
    this.setStatus(e.status ?? 'ended');
    for (const off of this.offs) off();
    this.pc?.close();
    for (const t of this.localStream?.getTracks() ?? []) t.stop();
    try {
      this.sig.send('leave', { room: this.room });
    } catch {
      // the connection is gone; so is the membership
    }
    this.emit('ended', { reason: e.reason, outcome: e.outcome, durationSeconds: e.durationSeconds });
  }
}

function desc(sdp: Relayed['sdp'], type: RTCSdpType): RTCSessionDescriptionInit {
  return typeof sdp === 'string' ? { type, sdp } : (sdp as RTCSessionDescriptionInit);
}
