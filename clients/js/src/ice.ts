// ICE servers for peer connections: fetched from `GET /api/v1/ice-servers` (STUN, and TURN
// with credentials minted for this user that expire), cached, refreshed before they expire,
// and pushed into the peer connections still open (`setConfiguration`), so a call that
// outlives its TURN credentials keeps its relay.

import type { RestClient } from './api.js';
import { StratusError } from './errors.js';
import type { IceServersResponse } from './protocol.js';

export interface IceOptions {
  /** Fixed servers instead of the deployment's (`GET /api/v1/ice-servers`). */
  iceServers?: RTCIceServer[];
  /** `'relay'`: only TURN candidates (for networks that must not expose addresses, or to
   * test the relay); the connection fails if the deployment offers no TURN. */
  iceTransportPolicy?: RTCIceTransportPolicy;
}

/** Refresh once this share of the credentials' lifetime has passed. */
const REFRESH_AT = 0.8;

export class IceServers {
  private cached: { servers: RTCIceServer[]; relay: boolean; refreshAt: number } | null = null;
  private inflight: Promise<RTCIceServer[]> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly pcs = new Set<RTCPeerConnection>();

  constructor(
    private readonly api: RestClient,
    private readonly opts: IceOptions = {},
  ) {}

  /** The configuration for a new peer connection. Rejects with `SERVICE_UNAVAILABLE` when
   * relay-only is asked for and the deployment has no TURN. */
  async config(extra: RTCConfiguration = {}): Promise<RTCConfiguration> {
    const iceServers = await this.servers();
    const policy = this.opts.iceTransportPolicy ?? 'all';
    if (policy === 'relay' && !this.opts.iceServers && this.cached && !this.cached.relay) {
      throw new StratusError('SERVICE_UNAVAILABLE', 'iceTransportPolicy is relay but the deployment offers no TURN server');
    }
    return { ...extra, iceServers, iceTransportPolicy: policy };
  }

  /** Keeps `pc`'s credentials fresh until it closes. */
  track(pc: RTCPeerConnection): RTCPeerConnection {
    this.pcs.add(pc);
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'closed') this.pcs.delete(pc);
    });
    return pc;
  }

  async servers(): Promise<RTCIceServer[]> {
    if (this.opts.iceServers) return this.opts.iceServers;
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.servers;
    return (this.inflight ??= this.fetch().finally(() => (this.inflight = null)));
  }

  /** Stops the refresh timer (the client disconnected). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pcs.clear();
  }

  private async fetch(): Promise<RTCIceServer[]> {
    let r: IceServersResponse;
    try {
      r = await this.api.request<IceServersResponse>('GET', '/api/v1/ice-servers');
    } catch (e) {
      // Better a connection that may work (host candidates, the last servers) than none.
      console.warn(`stratus: ICE servers unavailable (${(e as Error).message}); using ${this.cached ? 'the last ones' : 'none'}`);
      return this.cached?.servers ?? [];
    }
    const servers = r.ice_servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    const lifetimeMs = r.ttl_seconds * 1000;
    this.cached = { servers, relay: r.relay, refreshAt: Date.now() + lifetimeMs * REFRESH_AT };
    if (this.timer) clearTimeout(this.timer);
    if (r.relay) {
      this.timer = setTimeout(() => void this.refreshOpen(), lifetimeMs * REFRESH_AT);
    }
    return servers;
  }

  private async refreshOpen() {
    this.timer = null;
    if (this.pcs.size === 0) return;
    const iceServers = await this.fetch();
    for (const pc of this.pcs) {
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
      } catch (e) {
        console.warn(`stratus: could not refresh a peer connection's ICE servers: ${(e as Error).message}`);
      }
    }
  }
}
