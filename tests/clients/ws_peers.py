"""Two signaling peers on the third-party `websockets` client (PyPI), against a Stratus
WebSocket endpoint. Usage: ws_peers.py WS_URL_A WS_URL_B. Prints one JSON line with what each
side received; exits non-zero on any protocol surprise."""

import asyncio
import json
import sys

import websockets


async def recv(ws, want):
    msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    if msg.get("type") != want:
        raise SystemExit(f"expected {want}, got {msg}")
    return msg


async def main(url_a, url_b):
    async with websockets.connect(url_a) as a, websockets.connect(url_b) as b:
        await a.send(json.dumps({"type": "join", "requestId": "a1", "data": {"room": "py"}}))
        ja = await recv(a, "joined")
        await b.send(json.dumps({"type": "join-room", "roomId": "py"}))
        jb = await recv(b, "joined")
        await recv(a, "user-joined")
        peer_a, peer_b = ja["data"]["peerId"], jb["data"]["peerId"]
        await a.send(json.dumps({"type": "offer", "data": {"to": peer_b, "sdp": "v=0 from python"}}))
        offer = await recv(b, "offer")
        await b.send(json.dumps({"type": "answer", "to": peer_a, "sdp": "v=0 answer"}))
        answer = await recv(a, "answer")
        await a.send("{broken")
        error = await recv(a, "error")
        await b.close()
        left = await recv(a, "user-left")
        print(json.dumps({
            "peer_a": peer_a, "peer_b": peer_b,
            "offer_from": offer["data"]["from"], "offer_sdp": offer["data"]["sdp"],
            "answer_from": answer["data"]["from"],
            "error_code": error["data"]["code"],
            "left_peer": left["data"]["peerId"],
        }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
