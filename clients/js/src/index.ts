// @stratus/client: the browser SDK for Stratus.
//
// Layout:
// - client.ts    — `StratusClient`: connect, rooms, calls (start here).
// - signaling.ts — the WebSocket: requests by id, events, keepalive, reconnect with backoff.
// - room.ts      — group rooms on the SFU: publish, subscribe, mute, layers, leave.
// - call.ts      — 1:1 calls peer to peer through the calls API and the relay.
// - chat.ts      — chat sessions, messages, reactions, read markers, typing, live events.
// - api.ts       — the REST API.
// - ice.ts       — ICE servers: the deployment's STUN/TURN, refreshed before they expire.
// - errors.ts    — `StratusError` and the server's error codes.
// - protocol.ts  — wire types, mirrored from crates/protocol.
export { StratusClient, claims } from './client.js';
export type { ClientOptions, ClientEvents } from './client.js';
export { Signaling } from './signaling.js';
export type { SignalingOptions, SignalingEvents, ReconnectOptions, TokenSource, ConnectionState } from './signaling.js';
export { Room, RemoteParticipant } from './room.js';
export type { RoomOptions, RoomEvents, PublishOptions, RemoteTrack, LocalPublication } from './room.js';
export { Call } from './call.js';
export type { CallEvents, CallMediaOptions } from './call.js';
export { Chat } from './chat.js';
export type { ChatEvents, CreateSessionOptions, PageOptions } from './chat.js';
export { IceServers } from './ice.js';
export type { IceOptions } from './ice.js';
export { RestClient } from './api.js';
export type { RoomJoinResult, Presence } from './api.js';
export { StratusError } from './errors.js';
export type { ErrorCode } from './errors.js';
export * from './protocol.js';
