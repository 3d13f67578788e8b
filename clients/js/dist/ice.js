// ICE servers for peer connections: fetched from `GET /api/v1/ice-servers` (STUN, and TURN
// with credentials minted for this user that expire), cached, refreshed before they expire,
// and pushed into the peer connections still open (`setConfiguration`), so a call that
// outlives its TURN credentials keeps its relay.
import { StratusError } from './errors.js';
/** Refresh once this share of the credentials' lifetime has passed. */
const REFRESH_AT = 0.8;
export class IceServers {
    constructor(api, opts = {}) {
        this.api = api;
        this.opts = opts;
        this.cached = null;
        this.inflight = null;
        this.timer = null;
        this.pcs = new Set();
    }
    /** The configuration for a new peer connection. Rejects with `SERVICE_UNAVAILABLE` when
     * relay-only is asked for and the deployment has no TURN. */
    async config(extra = {}) {
        const iceServers = await this.servers();
        const policy = this.opts.iceTransportPolicy ?? 'all';
        if (policy === 'relay' && !this.opts.iceServers && this.cached && !this.cached.relay) {
            throw new StratusError('SERVICE_UNAVAILABLE', 'iceTransportPolicy is relay but the deployment offers no TURN server');
        }
        return { ...extra, iceServers, iceTransportPolicy: policy };
    }
    /** Keeps `pc`'s credentials fresh until it closes. */
    track(pc) {
        this.pcs.add(pc);
        pc.addEventListener('connectionstatechange', () => {
            if (pc.connectionState === 'closed')
                this.pcs.delete(pc);
        });
        return pc;
    }
    async servers() {
        if (this.opts.iceServers)
            return this.opts.iceServers;
        if (this.cached && Date.now() < this.cached.refreshAt)
            return this.cached.servers;
        return (this.inflight ?? (this.inflight = this.fetch().finally(() => (this.inflight = null))));
    }
    /** Stops the refresh timer (the client disconnected). */
    close() {
        if (this.timer)
            clearTimeout(this.timer);
        this.timer = null;
        this.pcs.clear();
    }
    async fetch() {
        let r;
        try {
            r = await this.api.request('GET', '/api/v1/ice-servers');
        }
        catch (e) {
            // Better a connection that may work (host candidates, the last servers) than none.
            console.warn(`stratus: ICE servers unavailable (${e.message}); using ${this.cached ? 'the last ones' : 'none'}`);
            return this.cached?.servers ?? [];
        }
        const servers = r.ice_servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
        const lifetimeMs = r.ttl_seconds * 1000;
        this.cached = { servers, relay: r.relay, refreshAt: Date.now() + lifetimeMs * REFRESH_AT };
        if (this.timer)
            clearTimeout(this.timer);
        if (r.relay) {
            this.timer = setTimeout(() => void this.refreshOpen(), lifetimeMs * REFRESH_AT);
        }
        return servers;
    }
    async refreshOpen() {
        this.timer = null;
        if (this.pcs.size === 0)
            return;
        const iceServers = await this.fetch();
        for (const pc of this.pcs) {
            try {
                pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
            }
            catch (e) {
                console.warn(`stratus: could not refresh a peer connection's ICE servers: ${e.message}`);
            }
        }
    }
}
