// 1:1 calls, peer to peer (docs/api.md "Calls", docs/signaling.md).
//
// The calls REST API rings the callee (`incoming-call` on their connections) and tracks the
// call's state (`call-status` to both). Media goes browser to browser: both sides join the
// call's signaling room (`call:<id>`) and exchange offer, answer and ICE candidates through
// the WebSocket relay. The caller offers, once the callee is in the room, so there is never
// glare. Hanging up on either side ends the call on both.
import { Emitter } from './emitter.js';
import { StratusError, mediaError } from './errors.js';
export class Call extends Emitter {
    constructor(sig, api, callId, role, callType, 
    /** The other side's user id. */
    peerUserId, room, 
    /** The client's ICE servers, used when `answer`/`start` are given none. */
    ice) {
        super();
        this.sig = sig;
        this.api = api;
        this.callId = callId;
        this.role = role;
        this.callType = callType;
        this.peerUserId = peerUserId;
        this.room = room;
        this.ice = ice;
        this.status = 'connecting';
        this.remoteStream = new MediaStream();
        this.localStream = null;
        this.pc = null;
        this.peerId = null;
        this.offered = false;
        this.pendingCandidates = [];
        this.offs = [];
        this.finished = false;
        this.offs.push(sig.on('call-status', (e) => {
            if (e.callId !== this.callId)
                return;
            this.setStatus(e.status);
            if (e.status === 'ended' || e.status === 'failed')
                this.finish(e);
        }));
    }
    /** The callee accepts: answers through the API, then waits for the caller's offer. */
    async answer(opts = {}) {
        if (this.role !== 'callee')
            throw new StratusError('FORBIDDEN', 'only the callee answers');
        try {
            await this.prepare(opts);
            await this.api.answerCall(this.callId);
            await this.joinRoom();
        }
        catch (e) {
            // Too late (the caller hung up), or no camera: release what was taken.
            this.finish({ status: e.code === 'CALL_ALREADY_ENDED' ? 'ended' : 'failed' });
            throw e;
        }
    }
    /** Ends the call for both sides (declines it, if not answered yet). */
    async hangup(reason = 'user_hangup') {
        if (this.finished)
            return;
        try {
            await this.api.endCall(this.callId, reason);
        }
        catch (e) {
            if (e.code !== 'CALL_ALREADY_ENDED')
                throw e;
        }
        this.finish({ reason });
    }
    /** @internal the caller's side, right after initiating. */
    async start(opts) {
        await this.prepare(opts);
        await this.joinRoom();
    }
    async prepare(opts) {
        if (opts.stream)
            this.localStream = opts.stream;
        else {
            try {
                this.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.callType === 'video' });
            }
            catch (e) {
                throw mediaError('getUserMedia', e);
            }
        }
        const ice = opts.ice ?? this.ice;
        const pc = opts.iceServers || !ice
            ? new RTCPeerConnection({ iceServers: opts.iceServers ?? [] })
            : ice.track(new RTCPeerConnection(await ice.config()));
        this.pc = pc;
        for (const t of this.localStream.getTracks())
            pc.addTrack(t, this.localStream);
        pc.ontrack = (ev) => {
            if (!this.remoteStream.getTracks().includes(ev.track))
                this.remoteStream.addTrack(ev.track);
            this.emit('remoteStream', this.remoteStream);
        };
        pc.onicecandidate = (ev) => {
            if (ev.candidate && this.peerId)
                this.relay('candidate', { candidate: ev.candidate.toJSON() });
        };
        pc.onconnectionstatechange = () => {
            this.emit('connectionState', pc.connectionState);
            // ICE gave up: end the call for both sides rather than leave it hanging.
            if (pc.connectionState === 'failed')
                void this.hangup('connection_failed').catch(() => undefined);
        };
        this.offs.push(this.sig.on('user-joined', (d) => {
            if (d.room === this.room && d.userId === this.peerUserId)
                this.peerArrived(d.peerId);
        }), this.sig.on('offer', (d) => void this.onOffer(d)), this.sig.on('answer', (d) => void this.onAnswer(d)), this.sig.on('candidate', (d) => void this.onCandidate(d)));
    }
    async joinRoom() {
        const j = await this.sig.request('join', { room: this.room });
        const peer = j.peers.find((p) => p.userId === this.peerUserId);
        if (peer)
            this.peerArrived(peer.peerId);
    }
    peerArrived(peerId) {
        this.peerId = peerId;
        if (this.role === 'caller' && !this.offered) {
            this.offered = true;
            void this.offer().catch((e) => this.emit('error', e));
        }
    }
    async offer() {
        const pc = this.pc;
        await pc.setLocalDescription(await pc.createOffer());
        this.relay('offer', { sdp: pc.localDescription.toJSON() });
    }
    mine(d) {
        return d.room === this.room && d.fromUser === this.peerUserId && !!this.pc;
    }
    async onOffer(d) {
        if (!this.mine(d) || this.role !== 'callee')
            return;
        this.peerId = d.from;
        const pc = this.pc;
        try {
            await pc.setRemoteDescription(desc(d.sdp, 'offer'));
            await this.flushCandidates();
            await pc.setLocalDescription(await pc.createAnswer());
            this.relay('answer', { sdp: pc.localDescription.toJSON() });
        }
        catch (e) {
            this.emit('error', mediaError('answering the offer', e));
        }
    }
    async onAnswer(d) {
        if (!this.mine(d) || this.role !== 'caller')
            return;
        try {
            await this.pc.setRemoteDescription(desc(d.sdp, 'answer'));
            await this.flushCandidates();
        }
        catch (e) {
            this.emit('error', mediaError('applying the answer', e));
        }
    }
    async onCandidate(d) {
        if (!this.mine(d) || !d.candidate)
            return;
        const c = typeof d.candidate === 'string' ? { candidate: d.candidate, sdpMid: '0' } : d.candidate;
        if (!this.pc.remoteDescription)
            this.pendingCandidates.push(c);
        else
            await this.pc.addIceCandidate(c).catch(() => undefined);
    }
    async flushCandidates() {
        for (const c of this.pendingCandidates.splice(0))
            await this.pc.addIceCandidate(c).catch(() => undefined);
    }
    relay(type, data) {
        try {
            this.sig.send(type, { ...data, to: this.peerId, room: this.room });
        }
        catch (e) {
            this.emit('error', e);
        }
    }
    setStatus(s) {
        if (this.status !== s) {
            this.status = s;
            this.emit('status', s);
        }
    }
    finish(e) {
        if (this.finished)
            return;
        this.finished = true;
        this.setStatus(e.status ?? 'ended');
        for (const off of this.offs)
            off();
        this.pc?.close();
        for (const t of this.localStream?.getTracks() ?? [])
            t.stop();
        try {
            this.sig.send('leave', { room: this.room });
        }
        catch {
            // the connection is gone; so is the membership
        }
        this.emit('ended', { reason: e.reason, outcome: e.outcome, durationSeconds: e.durationSeconds });
    }
}
function desc(sdp, type) {
    return typeof sdp === 'string' ? { type, sdp } : sdp;
}
