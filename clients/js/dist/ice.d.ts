import type { RestClient } from './api.js';
export interface IceOptions {
    /** Fixed servers instead of the deployment's (`GET /api/v1/ice-servers`). */
    iceServers?: RTCIceServer[];
    /** `'relay'`: only TURN candidates (for networks that must not expose addresses, or to
     * test the relay); the connection fails if the deployment offers no TURN. */
    iceTransportPolicy?: RTCIceTransportPolicy;
}
export declare class IceServers {
    private readonly api;
    private readonly opts;
    private cached;
    private inflight;
    private timer;
    private readonly pcs;
    constructor(api: RestClient, opts?: IceOptions);
    /** The configuration for a new peer connection. Rejects with `SERVICE_UNAVAILABLE` when
     * relay-only is asked for and the deployment has no TURN. */
    config(extra?: RTCConfiguration): Promise<RTCConfiguration>;
    /** Keeps `pc`'s credentials fresh until it closes. */
    track(pc: RTCPeerConnection): RTCPeerConnection;
    servers(): Promise<RTCIceServer[]>;
    /** Stops the refresh timer (the client disconnected). */
    close(): void;
    private fetch;
    private refreshOpen;
}
