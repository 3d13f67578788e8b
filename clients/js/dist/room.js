// A group room through the SFU (the dialect in docs/signaling.md, "Group rooms").
//
// Two PeerConnections per participant, as the media node expects: on the send transport
// the browser offers and the node answers (`publish`); on the recv transport the node offers
// (`subscribe`, `unsubscribe`, `negotiationNeeded`) and the browser answers
// (`connectWebRtcTransport`). Each transport's exchanges run one at a time (SerialQueue).
//
// When the room moves to another media node (`roomMoved`) or the WebSocket reconnects, the
// old transports are gone: the room joins again, republishes the same local tracks and
// resubscribes, and tells the app with `reconnecting` / `reconnected`.
import { Emitter } from './emitter.js';
import { StratusError, mediaError } from './errors.js';
import { SerialQueue } from './queue.js';
export class RemoteParticipant {
    constructor(participantId, userId) {
        this.participantId = participantId;
        this.userId = userId;
        this.producers = new Map();
        this.tracks = new Map(); // by producer id
        /** Every subscribed track of this participant, for a `<video>` element. */
        this.stream = new MediaStream();
    }
    /** Whether the participant has muted (paused) or does not publish this kind. */
    isMuted(kind) {
        const p = [...this.producers.values()].filter((p) => p.kind === kind);
        return p.length === 0 || p.every((x) => x.paused);
    }
}
const SIMULCAST = [
    { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: 'f', maxBitrate: 1500000 },
];
export class Room extends Emitter {
    constructor(sig, roomId, opts) {
        super();
        this.sig = sig;
        this.roomId = roomId;
        this.opts = opts;
        this.participantId = '';
        this.nodeId = '';
        this.participants = new Map();
        this.publications = new Map(); // by producer id
        this.sendPc = null;
        this.sendTransport = null;
        this.recvPc = null;
        this.recvTransport = null;
        this.sendQueue = new SerialQueue();
        this.recvQueue = new SerialQueue();
        this.consumers = new Map();
        this.published = [];
        this.offs = [];
        this.epoch = 0; // bumps on every (re)join; stale async work checks it
        this.closed = false;
    }
    /** Joins `roomId` on the connection `sig` (see `StratusClient.joinRoom`). */
    static async join(sig, roomId, opts = {}) {
        const room = new Room(sig, roomId, opts);
        room.listen();
        try {
            await room.enter();
            if (opts.publish)
                await room.publish(opts.publish);
        }
        catch (e) {
            room.teardown();
            throw e;
        }
        return room;
    }
    get localTracks() {
        return this.published.map((p) => p.track);
    }
    // ---- publishing ----
    /** Captures (or takes) tracks and publishes them; resolves once the node accepted them. */
    async publish(opts = {}) {
        let tracks;
        if (opts.stream) {
            tracks = opts.stream.getTracks();
        }
        else {
            try {
                const s = await navigator.mediaDevices.getUserMedia({ audio: opts.audio ?? true, video: opts.video ?? true });
                tracks = s.getTracks();
            }
            catch (e) {
                throw mediaError('getUserMedia', e);
            }
        }
        const entries = tracks.map((track) => ({ track, simulcast: !!opts.simulcast && track.kind === 'video', muted: false }));
        const pubs = await this.publishTracks(entries);
        this.published.push(...entries);
        return pubs;
    }
    publishTracks(entries) {
        const epoch = this.epoch;
        return this.sendQueue.run(async () => {
            const pc = await this.ensureSend();
            const stream = new MediaStream(entries.map((e) => e.track));
            const added = entries.map((e) => ({
                e,
                t: pc.addTransceiver(e.track, {
                    direction: 'sendonly',
                    streams: [stream],
                    sendEncodings: e.simulcast ? SIMULCAST.map((x) => ({ ...x })) : undefined,
                }),
            }));
            let offer;
            try {
                offer = await pc.createOffer();
                await pc.setLocalDescription(offer);
            }
            catch (e) {
                throw mediaError('createOffer', e);
            }
            const tracks = added.map(({ e, t }) => ({
                mid: t.mid,
                kind: e.track.kind,
                rids: e.simulcast ? SIMULCAST.map((x) => x.rid) : undefined,
                source: e.track.kind === 'audio' ? 'mic' : 'camera',
            }));
            const res = await this.sig.request('publish', {
                transportId: this.sendTransport.transportId,
                sdp: pc.localDescription.sdp,
                tracks,
            });
            if (epoch !== this.epoch)
                return [];
            await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
            const pubs = [];
            for (const { e, t } of added) {
                const p = res.producers.find((x) => x.mid === t.mid);
                if (!p)
                    continue;
                const pub = {
                    producerId: p.producerId,
                    kind: p.kind,
                    source: p.source ?? '',
                    track: e.track,
                    muted: false,
                    rids: p.rids ?? [],
                };
                this.publications.set(p.producerId, pub);
                pubs.push(pub);
                if (e.muted)
                    await this.setMuted(p.kind, true);
            }
            return pubs;
        });
    }
    /** Stops publishing a track (others get `trackUnpublished`). */
    async unpublish(producerId) {
        const pub = this.publications.get(producerId);
        if (!pub)
            throw new StratusError('PRODUCER_NOT_FOUND', `not publishing ${producerId}`);
        await this.sig.request('unpublish', { producerId });
        this.publications.delete(producerId);
        this.published = this.published.filter((p) => p.track !== pub.track);
        const sender = this.sendPc?.getSenders().find((s) => s.track === pub.track);
        if (sender)
            await sender.replaceTrack(null);
    }
    /**
     * Mutes or unmutes every local track of `kind`: the track stops producing (silence,
     * black) and the producer is paused on the node, so others see the mute and nothing is
     * forwarded.
     */
    async setMuted(kind, muted) {
        for (const p of this.published)
            if (p.track.kind === kind)
                p.muted = muted;
        for (const pub of this.publications.values()) {
            if (pub.kind !== kind || pub.muted === muted)
                continue;
            pub.track.enabled = !muted;
            await this.sig.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: pub.producerId });
            pub.muted = muted;
        }
    }
    isMuted(kind) {
        const pubs = [...this.publications.values()].filter((p) => p.kind === kind);
        return pubs.length === 0 || pubs.every((p) => p.muted);
    }
    // ---- subscribing ----
    /** Consumes a remote producer; resolves with its track once negotiated. */
    subscribe(producerId, opts = {}) {
        const epoch = this.epoch;
        return this.recvQueue.run(async () => {
            const existing = [...this.consumers.values()].find((c) => c.info.producerId === producerId);
            if (existing)
                return existing.remote;
            const pc = await this.ensureRecv();
            const res = await this.sig.request('subscribe', {
                transportId: this.recvTransport.transportId,
                producerId,
                paused: opts.paused,
                preferredLayers: opts.preferredLayers,
            });
            if (epoch !== this.epoch)
                throw new StratusError('CONNECTION_CLOSED', 'the room was joined again');
            await this.negotiate(pc, res.offer);
            const c = res.consumer;
            const tr = pc.getTransceivers().find((t) => t.mid === c.mid);
            if (!tr)
                throw new StratusError('INVALID_SDP', `no transceiver for consumer ${c.consumerId} (mid ${c.mid})`);
            const participant = this.owner(producerId);
            const producer = participant?.producers.get(producerId);
            const remote = {
                consumerId: c.consumerId,
                producerId,
                participantId: participant?.participantId ?? '',
                userId: participant?.userId ?? '',
                kind: c.kind,
                source: producer?.source ?? undefined,
                track: tr.receiver.track,
                paused: c.paused,
            };
            this.consumers.set(c.consumerId, { info: c, remote });
            if (participant) {
                participant.tracks.set(producerId, remote);
                participant.stream.addTrack(remote.track);
                this.emit('trackSubscribed', { participant, track: remote });
            }
            return remote;
        });
    }
    async unsubscribe(consumerId) {
        await this.recvQueue.run(async () => {
            const res = await this.sig.request('unsubscribe', { consumerId });
            this.dropConsumer(consumerId);
            if (this.recvPc)
                await this.negotiate(this.recvPc, res.offer);
        });
    }
    /** Stops (or restarts) forwarding of one subscription without renegotiating. */
    async pause(consumerId) {
        await this.sig.request('pause', { consumerId });
        const c = this.consumers.get(consumerId);
        if (c)
            c.remote.paused = true;
    }
    async resume(consumerId) {
        await this.sig.request('resume', { consumerId });
        const c = this.consumers.get(consumerId);
        if (c)
            c.remote.paused = false;
    }
    /** Asks for a simulcast layer of a subscription (0 = lowest); the node switches on a keyframe. */
    async setPreferredLayers(consumerId, spatialLayer, temporalLayer) {
        await this.sig.request('setPreferredLayers', { consumerId, spatialLayer, temporalLayer });
    }
    async setQuality(a, b) {
        if (typeof a === 'number') {
            if (!Number.isInteger(a) || a < 0 || a > 100) {
                throw new StratusError('VALIDATION_ERROR', 'quality is an integer from 0 to 100');
            }
            return this.sig.request('setQuality', { quality: a });
        }
        return this.setPreferredLayers(a, { low: 0, medium: 1, high: 2 }[b ?? 'high']);
    }
    // ---- leaving and stats ----
    async leave() {
        if (this.closed)
            return;
        try {
            await this.sig.request('leaveRoom', {});
        }
        catch (e) {
            // A closed connection has left already.
            if (e.code !== 'CONNECTION_CLOSED' && e.code !== 'PARTICIPANT_NOT_FOUND') {
                throw e;
            }
        }
        finally {
            this.teardown();
            this.emit('left', { reason: 'left' });
        }
    }
    /**
     * Receive statistics per subscribed track (from `getStats`): what a quality indicator or
     * a test reads.
     */
    async stats() {
        if (!this.recvPc)
            return [];
        const report = await this.recvPc.getStats();
        const out = [];
        report.forEach((s) => {
            if (s.type !== 'inbound-rtp')
                return;
            const c = [...this.consumers.values()].find((x) => x.info.mid === s.mid);
            if (!c)
                return;
            out.push({
                participantId: c.remote.participantId,
                userId: c.remote.userId,
                kind: c.remote.kind,
                consumerId: c.info.consumerId,
                packetsReceived: s.packetsReceived ?? 0,
                bytesReceived: s.bytesReceived ?? 0,
                framesDecoded: s.framesDecoded,
                packetsLost: s.packetsLost,
                jitter: s.jitter,
                frameWidth: s.frameWidth,
                frameHeight: s.frameHeight,
            });
        });
        return out;
    }
    // ---- internals ----
    async enter() {
        this.epoch += 1;
        let r;
        try {
            r = await this.sig.request('joinRoom', { roomId: this.roomId });
        }
        catch (e) {
            if (e.code !== 'ROOM_NOT_FOUND' || this.opts.create === false)
                throw e;
            // Create it; CONFLICT means someone else just did, which is as good.
            await this.sig.request('createRoom', { roomId: this.roomId, maxParticipants: this.opts.maxParticipants }).catch((c) => {
                if (c.code !== 'CONFLICT')
                    throw c;
            });
            r = await this.sig.request('joinRoom', { roomId: this.roomId });
        }
        this.participantId = r.participantId;
        this.nodeId = r.nodeId;
        for (const p of r.participants) {
            if (p.participantId !== this.participantId)
                this.addParticipant(p);
        }
    }
    addParticipant(info) {
        let p = this.participants.get(info.participantId);
        if (!p) {
            p = new RemoteParticipant(info.participantId, info.userId);
            this.participants.set(p.participantId, p);
            this.emit('participantJoined', p);
        }
        for (const prod of info.producers)
            this.addProducer(p, prod);
        return p;
    }
    addProducer(p, prod) {
        if (p.producers.has(prod.producerId))
            return;
        p.producers.set(prod.producerId, prod);
        this.emit('trackPublished', { participant: p, producer: prod });
        if (this.opts.autoSubscribe ?? true) {
            this.subscribe(prod.producerId, { preferredLayers: this.opts.preferredLayers }).catch((e) => {
                // A producer that closed meanwhile is not an error worth reporting.
                if (e.code !== 'PRODUCER_NOT_FOUND' && !this.closed)
                    this.emit('error', e);
            });
        }
    }
    owner(producerId) {
        for (const p of this.participants.values())
            if (p.producers.has(producerId))
                return p;
        return undefined;
    }
    dropConsumer(consumerId) {
        const c = this.consumers.get(consumerId);
        if (!c)
            return;
        this.consumers.delete(consumerId);
        const p = this.participants.get(c.remote.participantId);
        if (p) {
            p.tracks.delete(c.remote.producerId);
            p.stream.removeTrack(c.remote.track);
            this.emit('trackUnsubscribed', { participant: p, track: c.remote });
        }
    }
    async peerConnection() {
        const base = { bundlePolicy: 'max-bundle' };
        if (this.opts.iceServers || !this.opts.ice)
            return new RTCPeerConnection({ ...base, iceServers: this.opts.iceServers ?? [] });
        return this.opts.ice.track(new RTCPeerConnection(await this.opts.ice.config(base)));
    }
    async ensureSend() {
        if (this.sendPc)
            return this.sendPc;
        this.sendTransport = await this.sig.request('createWebRtcTransport', { direction: 'send' });
        this.sendPc = await this.peerConnection();
        return this.sendPc;
    }
    async ensureRecv() {
        if (this.recvPc)
            return this.recvPc;
        this.recvTransport = await this.sig.request('createWebRtcTransport', { direction: 'recv' });
        this.recvPc = await this.peerConnection();
        return this.recvPc;
    }
    /** Answers the node's offer, and each offer it sends back, until the transport is stable. */
    async negotiate(pc, offer) {
        while (offer) {
            try {
                await pc.setRemoteDescription({ type: 'offer', sdp: offer });
                await pc.setLocalDescription(await pc.createAnswer());
            }
            catch (e) {
                throw mediaError('answering the media node', e);
            }
            const r = await this.sig.request('connectWebRtcTransport', {
                transportId: this.recvTransport.transportId,
                sdp: pc.localDescription.sdp,
            });
            offer = r.offer;
        }
    }
    on2(type, fn) {
        this.offs.push(this.sig.on(type, (d) => {
            if (!this.closed && d.roomId === this.roomId)
                fn(d);
        }));
    }
    listen() {
        this.on2('participantJoined', (d) => this.addParticipant({ participantId: d.participantId, userId: d.userId, producers: [] }));
        this.on2('participantLeft', (d) => {
            const p = this.participants.get(d.participantId);
            if (!p)
                return;
            for (const t of [...p.tracks.values()])
                this.dropConsumer(t.consumerId);
            this.participants.delete(d.participantId);
            this.emit('participantLeft', p);
        });
        this.on2('producerCreated', (d) => {
            const pi = d.producer;
            if (pi.participantId === this.participantId)
                return;
            const p = this.participants.get(pi.participantId) ??
                this.addParticipant({ participantId: pi.participantId, userId: pi.userId, producers: [] });
            this.addProducer(p, pi);
        });
        this.on2('producerClosed', (d) => {
            const p = this.participants.get(d.participantId);
            if (!p)
                return;
            p.producers.delete(d.producerId);
            const t = p.tracks.get(d.producerId);
            if (t)
                this.dropConsumer(t.consumerId);
            this.emit('trackUnpublished', { participant: p, producerId: d.producerId });
        });
        const muted = (d, m) => {
            const p = this.participants.get(d.participantId);
            const prod = p?.producers.get(d.producerId);
            if (!p || !prod)
                return;
            prod.paused = m;
            this.emit('muteChanged', { participant: p, producerId: d.producerId, kind: prod.kind, muted: m });
        };
        this.on2('producerPaused', (d) => muted(d, true));
        this.on2('producerResumed', (d) => muted(d, false));
        this.on2('consumerLayersChanged', (d) => {
            const c = this.consumers.get(d.consumerId);
            if (c)
                this.emit('layersChanged', { track: c.remote, spatialLayer: d.spatialLayer, temporalLayer: d.temporalLayer ?? undefined });
        });
        this.on2('negotiationNeeded', (d) => {
            const epoch = this.epoch;
            void this.recvQueue
                .run(async () => {
                if (epoch !== this.epoch || !this.recvPc || d.transportId !== this.recvTransport?.transportId)
                    return;
                // Consumers whose producers closed are gone from the node's offer.
                await this.negotiate(this.recvPc, d.offer);
            })
                .catch((e) => this.emit('error', e));
        });
        this.on2('roomMoved', () => void this.rejoin('moved'));
        this.offs.push(this.sig.on('open', ({ reconnected }) => {
            if (reconnected && !this.closed)
                void this.rejoin('connection');
        }));
    }
    /** Drops the transports and everything learned, then joins, publishes and subscribes anew. */
    async rejoin(reason) {
        this.emit('reconnecting', { reason });
        this.closeTransports();
        for (const c of [...this.consumers.keys()])
            this.dropConsumer(c);
        for (const p of [...this.participants.values()]) {
            this.participants.delete(p.participantId);
            this.emit('participantLeft', p);
        }
        this.publications.clear();
        for (let attempt = 0; attempt < 5 && !this.closed; attempt++) {
            try {
                await this.enter();
                if (this.published.length)
                    await this.publishTracks(this.published);
                this.emit('reconnected', { participantId: this.participantId });
                return;
            }
            catch (e) {
                const err = e;
                if (err.code === 'CONNECTION_CLOSED')
                    return; // the next `open` rejoins
                await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
            }
        }
        if (!this.closed) {
            const error = new StratusError('SERVICE_UNAVAILABLE', 'could not join the room again');
            this.teardown();
            this.emit('left', { reason: 'failed', error });
        }
    }
    closeTransports() {
        this.epoch += 1;
        this.sendPc?.close();
        this.recvPc?.close();
        this.sendPc = this.recvPc = null;
        this.sendTransport = this.recvTransport = null;
        this.sendQueue = new SerialQueue();
        this.recvQueue = new SerialQueue();
    }
    teardown() {
        this.closed = true;
        this.closeTransports();
        for (const off of this.offs)
            off();
        this.offs = [];
        if (this.opts.stopTracksOnLeave ?? true)
            for (const p of this.published)
                p.track.stop();
    }
}
