export * from './wire.js';
import type { PushedEvents, RoomEvent, RoomMoved, SfuMethods, SignalingMethods } from './wire.js';
/** Every WebSocket message: `{type, requestId?, data?}`. */
export interface Envelope<T = unknown> {
    type: string;
    requestId?: string;
    data?: T;
}
/** Events the media node pushes to a room's members (and `roomMoved` from the functions), by type. */
export type RoomWireEvents = {
    [K in RoomEvent['type']]: Omit<Extract<RoomEvent, {
        type: K;
    }>, 'type'>;
} & {
    roomMoved: RoomMoved;
};
/** A relayed `offer` / `answer` / `candidate` / `bye` / `custom` as received. */
export interface Relayed {
    from: string;
    fromUser: string;
    room: string;
    sdp?: RTCSessionDescriptionInit | string;
    candidate?: RTCIceCandidateInit | string;
    [k: string]: unknown;
}
/** Everything the server pushes that is not the answer to a request, by type. */
export interface ServerEvents extends RoomWireEvents, PushedEvents {
    offer: Relayed;
    answer: Relayed;
    candidate: Relayed;
    bye: Relayed;
    custom: Relayed;
}
/** Every request that is answered: its `data` and the `data` of the answer, by type. */
export type Methods = SfuMethods & SignalingMethods;
