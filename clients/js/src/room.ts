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

import type { IceServers } from './ice.js';
import { Emitter } from './emitter.js';
import { StratusError, mediaError } from './errors.js';
import { SerialQueue } from './queue.js';
import type {
  ConsumerInfo,
  JoinRoomResponse,
  Layers,
  MediaKind,
  ParticipantInfo,
  ProducerInfo,
  QualityInfo,
  PublishTrack,
  RoomWireEvents,
  TransportInfo,
} from './protocol.js';
import type { Signaling } from './signaling.js';

export interface PublishOptions {
  /** Capture the microphone (constraints allowed); default true. Ignored with `stream`. */
  audio?: boolean | MediaTrackConstraints;
  /** Capture the camera (constraints allowed); default true. Ignored with `stream`. */
  video?: boolean | MediaTrackConstraints;
  /** Publish these tracks instead of capturing. */
  stream?: MediaStream;
  /** Send video in three layers (rids q, h, f: ¼, ½ and full resolution). */
  simulcast?: boolean;
}

export interface RoomOptions {
  /** Create the room when it does not exist (default true). */
  create?: boolean;
  /** The size limit of a room this join creates (the server's default is 16). */
  maxParticipants?: number;
  /** Subscribe to everything others publish, now and later (default true). */
  autoSubscribe?: boolean;
  /** Layers asked for on automatic subscriptions. */
  preferredLayers?: Layers;
  /** Publish right after joining. */
  publish?: PublishOptions;
  /** Fixed ICE servers for this room's peer connections (default: the client's `ice`). */
  iceServers?: RTCIceServer[];
  /** Where peer connections get their ICE configuration (set by `StratusClient`). */
  ice?: IceServers;
  /** Stop the local capture tracks on `leave` (default true). */
  stopTracksOnLeave?: boolean;
}

/** A remote producer this client consumes. */
export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  participantId: string;
  userId: string;
  kind: MediaKind;
  source?: string;
  track: MediaStreamTrack;
  /** Paused by us (`pause`). */
  paused: boolean;
}

export class RemoteParticipant {
  readonly producers = new Map<string, ProducerInfo>();
  readonly tracks = new Map<string, RemoteTrack>(); // by producer id
  /** Every subscribed track of this participant, for a `<video>` element. */
  readonly stream = new MediaStream();

  constructor(
    readonly participantId: string,
    readonly userId: string,
  ) {}

  /** Whether the participant has muted (paused) or does not publish this kind. */
  isMuted(kind: MediaKind): boolean {
    const p = [...this.producers.values()].filter((p) => p.kind === kind);
    return p.length === 0 || p.every((x) => x.paused);
  }
}

export interface LocalPublication {
  producerId: string;
  kind: MediaKind;
  source: string;
  track: MediaStreamTrack;
  muted: boolean;
  rids: string[];
}

export interface RoomEvents {
  participantJoined: RemoteParticipant;
  participantLeft: RemoteParticipant;
  /** A remote participant published (whether or not we subscribe). */
  trackPublished: { participant: RemoteParticipant; producer: ProducerInfo };
  trackUnpublished: { participant: RemoteParticipant; producerId: string };
  trackSubscribed: { participant: RemoteParticipant; track: RemoteTrack };
  trackUnsubscribed: { participant: RemoteParticipant; track: RemoteTrack };
  /** A remote participant muted or unmuted a track (paused or resumed its producer). */
  muteChanged: { participant: RemoteParticipant; producerId: string; kind: MediaKind; muted: boolean };
  /** The node switched the layer it forwards us. */
  layersChanged: { track: RemoteTrack; spatialLayer: number; temporalLayer?: number };
  /** The room is being joined again (it moved to another media node, or the WebSocket reconnected). */
  reconnecting: { reason: 'moved' | 'connection' };
  reconnected: { participantId: string };
  left: { reason: 'left' | 'failed'; error?: StratusError };
  /** A background step failed (an automatic subscription, a renegotiation). */
  error: StratusError;
}

const SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];

export class Room extends Emitter<RoomEvents> {
  participantId = '';
  nodeId = '';
  readonly participants = new Map<string, RemoteParticipant>();
  readonly publications = new Map<string, LocalPublication>(); // by producer id

  private sendPc: RTCPeerConnection | null = null;
  private sendTransport: TransportInfo | null = null;
  private recvPc: RTCPeerConnection | null = null;
  private recvTransport: TransportInfo | null = null;
  private sendQueue = new SerialQueue();
  private recvQueue = new SerialQueue();
  private consumers = new Map<string, { info: ConsumerInfo; remote: RemoteTrack }>();
  private published: { track: MediaStreamTrack; simulcast: boolean; muted: boolean }[] = [];
  private offs: (() => void)[] = [];
  private epoch = 0; // bumps on every (re)join; stale async work checks it
  private closed = false;

  private constructor(
    private readonly sig: Signaling,
    readonly roomId: string,
    private readonly opts: RoomOptions,
  ) {
    super();
  }

  /** Joins `roomId` on the connection `sig` (see `StratusClient.joinRoom`). */
  static async join(sig: Signaling, roomId: string, opts: RoomOptions = {}): Promise<Room> {
    const room = new Room(sig, roomId, opts);
    room.listen();
    try {
      await room.enter();
      if (opts.publish) await room.publish(opts.publish);
    } catch (e) {
      room.teardown();
      throw e;
    }
    return room;
  }

  get localTracks(): MediaStreamTrack[] {
    return this.published.map((p) => p.track);
  }

  // ---- publishing ----

  /** Captures (or takes) tracks and publishes them; resolves once the node accepted them. */
  async publish(opts: PublishOptions = {}): Promise<LocalPublication[]> {
    let tracks: MediaStreamTrack[];
    if (opts.stream) {
      tracks = opts.stream.getTracks();
    } else {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ audio: opts.audio ?? true, video: opts.video ?? true });
        tracks = s.getTracks();
      } catch (e) {
        throw mediaError('getUserMedia', e);
      }
    }
    const entries = tracks.map((track) => ({ track, simulcast: !!opts.simulcast && track.kind === 'video', muted: false }));
    const pubs = await this.publishTracks(entries);
    this.published.push(...entries);
    return pubs;
  }

  private publishTracks(entries: { track: MediaStreamTrack; simulcast: boolean; muted: boolean }[]) {
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
      let offer: RTCSessionDescriptionInit;
      try {
        offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
      } catch (e) {
        throw mediaError('createOffer', e);
      }
      const tracks: PublishTrack[] = added.map(({ e, t }) => ({
        mid: t.mid!,
        kind: e.track.kind as MediaKind,
        rids: e.simulcast ? SIMULCAST.map((x) => x.rid!) : undefined,
        source: e.track.kind === 'audio' ? 'mic' : 'camera',
      }));
      const res = await this.sig.request('publish', {
        transportId: this.sendTransport!.transportId,
        sdp: pc.localDescription!.sdp,
        tracks,
      });
      if (epoch !== this.epoch) return [];
      await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
      const pubs: LocalPublication[] = [];
      for (const { e, t } of added) {
        const p = res.producers.find((x) => x.mid === t.mid);
        if (!p) continue;
        const pub: LocalPublication = {
          producerId: p.producerId,
          kind: p.kind,
          source: p.source ?? '',
          track: e.track,
          muted: false,
          rids: p.rids ?? [],
        };
        this.publications.set(p.producerId, pub);
        pubs.push(pub);
        if (e.muted) await this.setMuted(p.kind, true);
      }
      return pubs;
    });
  }

  /** Stops publishing a track (others get `trackUnpublished`). */
  async unpublish(producerId: string): Promise<void> {
    const pub = this.publications.get(producerId);
    if (!pub) throw new StratusError('PRODUCER_NOT_FOUND', `not publishing ${producerId}`);
    await this.sig.request('unpublish', { producerId });
    this.publications.delete(producerId);
    this.published = this.published.filter((p) => p.track !== pub.track);
    const sender = this.sendPc?.getSenders().find((s) => s.track === pub.track);
    if (sender) await sender.replaceTrack(null);
  }

  /**
   * Mutes or unmutes every local track of `kind`: the track stops producing (silence,
   * black) and the producer is paused on the node, so others see the mute and nothing is
   * forwarded.
   */
  async setMuted(kind: MediaKind, muted: boolean): Promise<void> {
    for (const p of this.published) if (p.track.kind === kind) p.muted = muted;
    for (const pub of this.publications.values()) {
      if (pub.kind !== kind || pub.muted === muted) continue;
      pub.track.enabled = !muted;
      await this.sig.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: pub.producerId });
      pub.muted = muted;
    }
  }

  isMuted(kind: MediaKind): boolean {
    const pubs = [...this.publications.values()].filter((p) => p.kind === kind);
    return pubs.length === 0 || pubs.every((p) => p.muted);
  }

  // ---- subscribing ----

  /** Consumes a remote producer; resolves with its track once negotiated. */
  subscribe(producerId: string, opts: { paused?: boolean; preferredLayers?: Layers } = {}): Promise<RemoteTrack> {
    const epoch = this.epoch;
    return this.recvQueue.run(async () => {
      const existing = [...this.consumers.values()].find((c) => c.info.producerId === producerId);
      if (existing) return existing.remote;
      const pc = await this.ensureRecv();
      const res = await this.sig.request('subscribe', {
        transportId: this.recvTransport!.transportId,
        producerId,
        paused: opts.paused,
        preferredLayers: opts.preferredLayers,
      });
      if (epoch !== this.epoch) throw new StratusError('CONNECTION_CLOSED', 'the room was joined again');
      await this.negotiate(pc, res.offer);
      const c = res.consumer;
      const tr = pc.getTransceivers().find((t) => t.mid === c.mid);
      if (!tr) throw new StratusError('INVALID_SDP', `no transceiver for consumer ${c.consumerId} (mid ${c.mid})`);
      const participant = this.owner(producerId);
      const producer = participant?.producers.get(producerId);
      const remote: RemoteTrack = {
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

  async unsubscribe(consumerId: string): Promise<void> {
    await this.recvQueue.run(async () => {
      const res = await this.sig.request('unsubscribe', { consumerId });
      this.dropConsumer(consumerId);
      if (this.recvPc) await this.negotiate(this.recvPc, res.offer);
    });
  }

  /** Stops (or restarts) forwarding of one subscription without renegotiating. */
  async pause(consumerId: string): Promise<void> {
    await this.sig.request('pause', { consumerId });
    const c = this.consumers.get(consumerId);
    if (c) c.remote.paused = true;
  }

  async resume(consumerId: string): Promise<void> {
    await this.sig.request('resume', { consumerId });
    const c = this.consumers.get(consumerId);
    if (c) c.remote.paused = false;
  }

  /** Asks for a simulcast layer of a subscription (0 = lowest); the node switches on a keyframe. */
  async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    await this.sig.request('setPreferredLayers', { consumerId, spatialLayer, temporalLayer });
  }

  /**
   * `setQuality(n)`: receive quality 0–100 for every video this participant receives, now and
   * later (a simulcast layer, the base frame rate below 20, and a bitrate cap; docs/api.md,
   * "Quality"); an explicit `setPreferredLayers` on a subscription overrides it there.
   * `setQuality(consumerId, 'low' | 'medium' | 'high')`: spatial layer 0 / 1 / 2 of one
   * subscription.
   */
  setQuality(quality: number): Promise<QualityInfo>;
  setQuality(consumerId: string, quality: 'low' | 'medium' | 'high'): Promise<void>;
  async setQuality(a: number | string, b?: 'low' | 'medium' | 'high'): Promise<QualityInfo | void> {
    if (typeof a === 'number') {
      if (!Number.isInteger(a) || a < 0 || a > 100) {
        throw new StratusError('VALIDATION_ERROR', 'quality is an integer from 0 to 100');
      }
      return this.sig.request('setQuality', { quality: a });
    }
    return this.setPreferredLayers(a, { low: 0, medium: 1, high: 2 }[b ?? 'high']);
  }

  // ---- leaving and stats ----

  async leave(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sig.request('leaveRoom', {});
    } catch (e) {
      // A closed connection has left already.
      if ((e as StratusError).code !== 'CONNECTION_CLOSED' && (e as StratusError).code !== 'PARTICIPANT_NOT_FOUND') {
        throw e;
      }
    } finally {
      this.teardown();
      this.emit('left', { reason: 'left' });
    }
  }

  /**
   * Receive statistics per subscribed track (from `getStats`): what a quality indicator or
   * a test reads.
   */
  async stats(): Promise<
    { participantId: string; userId: string; kind: MediaKind; consumerId: string; packetsReceived: number; bytesReceived: number; framesDecoded?: number; packetsLost?: number; jitter?: number; frameWidth?: number; frameHeight?: number }[]
  > {
    if (!this.recvPc) return [];
    const report = await this.recvPc.getStats();
    const out: Awaited<ReturnType<Room['stats']>> = [];
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const c = [...this.consumers.values()].find((x) => x.info.mid === s.mid);
      if (!c) return;
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

  private async enter() {
    this.epoch += 1;
    let r: JoinRoomResponse;
    try {
      r = await this.sig.request('joinRoom', { roomId: this.roomId });
    } catch (e) {
      if ((e as StratusError).code !== 'ROOM_NOT_FOUND' || this.opts.create === false) throw e;
      // Create it; CONFLICT means someone else just did, which is as good.
      await this.sig.request('createRoom', { roomId: this.roomId, maxParticipants: this.opts.maxParticipants }).catch((c) => {
        if ((c as StratusError).code !== 'CONFLICT') throw c;
      });
      r = await this.sig.request('joinRoom', { roomId: this.roomId });
    }
    this.participantId = r.participantId;
    this.nodeId = r.nodeId;
    for (const p of r.participants) {
      if (p.participantId !== this.participantId) this.addParticipant(p);
    }
  }

  private addParticipant(info: Pick<ParticipantInfo, 'participantId' | 'userId' | 'producers'>): RemoteParticipant {
    let p = this.participants.get(info.participantId);
    if (!p) {
      p = new RemoteParticipant(info.participantId, info.userId);
      this.participants.set(p.participantId, p);
      this.emit('participantJoined', p);
    }
    for (const prod of info.producers) this.addProducer(p, prod);
    return p;
  }

  private addProducer(p: RemoteParticipant, prod: ProducerInfo) {
    if (p.producers.has(prod.producerId)) return;
    p.producers.set(prod.producerId, prod);
    this.emit('trackPublished', { participant: p, producer: prod });
    if (this.opts.autoSubscribe ?? true) {
      this.subscribe(prod.producerId, { preferredLayers: this.opts.preferredLayers }).catch((e) => {
        // A producer that closed meanwhile is not an error worth reporting.
        if ((e as StratusError).code !== 'PRODUCER_NOT_FOUND' && !this.closed) this.emit('error', e);
      });
    }
  }

  private owner(producerId: string): RemoteParticipant | undefined {
    for (const p of this.participants.values()) if (p.producers.has(producerId)) return p;
    return undefined;
  }

  private dropConsumer(consumerId: string) {
    const c = this.consumers.get(consumerId);
    if (!c) return;
    this.consumers.delete(consumerId);
    const p = this.participants.get(c.remote.participantId);
    if (p) {
      p.tracks.delete(c.remote.producerId);
      p.stream.removeTrack(c.remote.track);
      this.emit('trackUnsubscribed', { participant: p, track: c.remote });
    }
  }

  private async peerConnection(): Promise<RTCPeerConnection> {
    const base: RTCConfiguration = { bundlePolicy: 'max-bundle' };
    if (this.opts.iceServers || !this.opts.ice) return new RTCPeerConnection({ ...base, iceServers: this.opts.iceServers ?? [] });
    return this.opts.ice.track(new RTCPeerConnection(await this.opts.ice.config(base)));
  }

  private async ensureSend(): Promise<RTCPeerConnection> {
    if (this.sendPc) return this.sendPc;
    this.sendTransport = await this.sig.request('createWebRtcTransport', { direction: 'send' });
    this.sendPc = await this.peerConnection();
    return this.sendPc;
  }

  private async ensureRecv(): Promise<RTCPeerConnection> {
    if (this.recvPc) return this.recvPc;
    this.recvTransport = await this.sig.request('createWebRtcTransport', { direction: 'recv' });
    this.recvPc = await this.peerConnection();
    return this.recvPc;
  }

  /** Answers the node's offer, and each offer it sends back, until the transport is stable. */
  private async negotiate(pc: RTCPeerConnection, offer: string | null | undefined) {
    while (offer) {
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: offer });
        await pc.setLocalDescription(await pc.createAnswer());
      } catch (e) {
        throw mediaError('answering the media node', e);
      }
      const r = await this.sig.request('connectWebRtcTransport', {
        transportId: this.recvTransport!.transportId,
        sdp: pc.localDescription!.sdp,
      });
      offer = r.offer;
    }
  }

  private on2<K extends keyof RoomWireEvents>(type: K, fn: (d: RoomWireEvents[K]) => void) {
    this.offs.push(
      this.sig.on(type, (d) => {
        if (!this.closed && (d as { roomId?: string }).roomId === this.roomId) fn(d);
      }),
    );
  }

  private listen() {
    this.on2('participantJoined', (d) =>
      this.addParticipant({ participantId: d.participantId, userId: d.userId, producers: [] }),
    );
    this.on2('participantLeft', (d) => {
      const p = this.participants.get(d.participantId);
      if (!p) return;
      for (const t of [...p.tracks.values()]) this.dropConsumer(t.consumerId);
      this.participants.delete(d.participantId);
      this.emit('participantLeft', p);
    });
    this.on2('producerCreated', (d) => {
      const pi = d.producer;
      if (pi.participantId === this.participantId) return;
      const p =
        this.participants.get(pi.participantId) ??
        this.addParticipant({ participantId: pi.participantId, userId: pi.userId, producers: [] });
      this.addProducer(p, pi);
    });
    this.on2('producerClosed', (d) => {
      const p = this.participants.get(d.participantId);
      if (!p) return;
      p.producers.delete(d.producerId);
      const t = p.tracks.get(d.producerId);
      if (t) this.dropConsumer(t.consumerId);
      this.emit('trackUnpublished', { participant: p, producerId: d.producerId });
    });
    const muted = (d: { producerId: string; participantId: string }, m: boolean) => {
      const p = this.participants.get(d.participantId);
      const prod = p?.producers.get(d.producerId);
      if (!p || !prod) return;
      prod.paused = m;
      this.emit('muteChanged', { participant: p, producerId: d.producerId, kind: prod.kind, muted: m });
    };
    this.on2('producerPaused', (d) => muted(d, true));
    this.on2('producerResumed', (d) => muted(d, false));
    this.on2('consumerLayersChanged', (d) => {
      const c = this.consumers.get(d.consumerId);
      if (c) this.emit('layersChanged', { track: c.remote, spatialLayer: d.spatialLayer, temporalLayer: d.temporalLayer ?? undefined });
    });
    this.on2('negotiationNeeded', (d) => {
      const epoch = this.epoch;
      void this.recvQueue
        .run(async () => {
          if (epoch !== this.epoch || !this.recvPc || d.transportId !== this.recvTransport?.transportId) return;
          // Consumers whose producers closed are gone from the node's offer.
          await this.negotiate(this.recvPc, d.offer);
        })
        .catch((e) => this.emit('error', e));
    });
    this.on2('roomMoved', () => void this.rejoin('moved'));
    this.offs.push(
      this.sig.on('open', ({ reconnected }) => {
        if (reconnected && !this.closed) void this.rejoin('connection');
      }),
    );
  }

  /** Drops the transports and everything learned, then joins, publishes and subscribes anew. */
  private async rejoin(reason: 'moved' | 'connection') {
    this.emit('reconnecting', { reason });
    this.closeTransports();
    for (const c of [...this.consumers.keys()]) this.dropConsumer(c);
    for (const p of [...this.participants.values()]) {
      this.participants.delete(p.participantId);
      this.emit('participantLeft', p);
    }
    this.publications.clear();
    for (let attempt = 0; attempt < 5 && !this.closed; attempt++) {
      try {
        await this.enter();
        if (this.published.length) await this.publishTracks(this.published);
        this.emit('reconnected', { participantId: this.participantId });
        return;
      } catch (e) {
        const err = e as StratusError;
        if (err.code === 'CONNECTION_CLOSED') return; // the next `open` rejoins
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
    if (!this.closed) {
      const error = new StratusError('SERVICE_UNAVAILABLE', 'could not join the room again');
      this.teardown();
      this.emit('left', { reason: 'failed', error });
    }
  }

  private closeTransports() {
    this.epoch += 1;
    this.sendPc?.close();
    this.recvPc?.close();
    this.sendPc = this.recvPc = null;
    this.sendTransport = this.recvTransport = null;
    this.sendQueue = new SerialQueue();
    this.recvQueue = new SerialQueue();
  }

  private teardown() {
    this.closed = true;
    this.closeTransports();
    for (const off of this.offs) off();
    this.offs = [];
    if (this.opts.stopTracksOnLeave ?? true) for (const p of this.published) p.track.stop();
  }
}
