#!/usr/bin/env python3
"""What a participant-minute costs on AWS, from measured counts and published prices.

    scripts/cost.py [--lambda-cost bench/results/lambda-cost-*.json]
                    [--sfu-fanout bench/results/sfu-fanout-*.md] [--prices docs/prices.json]
                    [--room-size 4] [--minutes 30] [--arch arm64] [--json]

Inputs, all produced by the project's own tools:
- lambda-cost JSON (bench/src/lambda_cost.rs): per signaling operation, the function's billed
  duration, its DynamoDB operations and the messages it pushed, measured through the release
  function binaries;
- sfu-fanout output (bench/src/sfu_fanout.rs): packets the SFU forwards per CPU-second;
- docs/prices.json: the published prices used, with their sources and the date they were read.

The session model (one participant in a group room of N for M minutes) is written out below,
operation by operation; change it with the flags. Prints markdown (docs/cost.md) or JSON.
"""
import argparse
import glob
import json
import math
import re
import sys


def newest(pattern):
    files = sorted(glob.glob(pattern))
    if not files:
        sys.exit(f"no file matches {pattern}: run the bench first (see the docstring)")
    return files[-1]


def sfu_pps_per_core(path):
    """The highest N without loss: its forwarded packets per CPU-second."""
    best = None
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or not re.match(r"^\d+", cells[0]):
            continue
        n, pps, loss = int(cells[0].split()[0]), float(cells[3]), float(cells[4].rstrip("%"))
        if loss <= 0.5 and (best is None or n > best[0]):
            best = (n, pps)
    if best is None:
        sys.exit(f"{path} has no row without loss")
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lambda-cost", default=None)
    ap.add_argument("--sfu-fanout", default=None)
    ap.add_argument("--prices", default="docs/prices.json")
    ap.add_argument("--room-size", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--arch", choices=["arm64", "x86_64"], default="arm64")
    ap.add_argument("--video-kbps", type=float, default=800, help="the layer each subscriber receives")
    ap.add_argument("--audio-kbps", type=float, default=40)
    ap.add_argument("--video-pps", type=float, default=90)
    ap.add_argument("--audio-pps", type=float, default=50)
    ap.add_argument("--node-vcpu", type=float, default=1)
    ap.add_argument("--node-gb", type=float, default=2)
    ap.add_argument("--node-utilisation", type=float, default=0.7, help="CPU share planned per node")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    lc_path = a.lambda_cost or newest("bench/results/lambda-cost-*.json")
    sfu_path = a.sfu_fanout or newest("bench/results/sfu-fanout-*.md")
    lc = json.load(open(lc_path))
    prices = json.load(open(a.prices))
    ops = {o["op"]: o for o in lc["operations"]}
    n, minutes, others = a.room_size, a.minutes, a.room_size - 1

    # ---- The session: (operation measured, how many per participant, why) ----
    node_request = "createWebRtcTransport"  # every request forwarded to the node has its shape
    session = [
        ("$connect", 1, "open the WebSocket"),
        ("ping", math.ceil(minutes / 5), "the SDK's keepalive every 5 minutes"),
        ("createRoom", 1 / n, "one member creates the room"),
        ("joinRoom", 1, "placement, member write, participant on the node"),
        (node_request, 2, "a send and a receive transport"),
        (node_request, 2, "the answers to the transports' offers (connectWebRtcTransport)"),
        (node_request, 2, "publish audio and video"),
        (node_request, 2 * others, "subscribe to each other member's two tracks"),
        (node_request, 2 * others, "answer each subscription's renegotiation"),
        ("leaveRoom", 1, "leave"),
        ("$disconnect", 1, "close the WebSocket"),
        ("POST /auth/token", 1, "the app's back end mints the participant's token (REST)"),
    ]
    # Events the node pushes because of this participant: participantJoined and two
    # producerCreated to each other member on the way in, participantLeft and two
    # producerClosed on the way out.
    events = 6 * others

    arch = a.arch
    gb = lc["memory_mb"] / 1024
    p = prices
    inv = gbs = rru = wru = msgs = http = 0.0
    rows = []
    for op, count, why in session:
        m = ops[op]
        d = m["dynamodb_per_invocation"]
        reads = d.get("GetItem", 0) + d.get("Query", 0)  # strongly consistent, items under 4 KB
        writes = d.get("PutItem", 0) + d.get("UpdateItem", 0) + d.get("DeleteItem", 0) + 2 * d.get("TransactWriteItems.items", 0)
        inv += count
        gbs += count * gb * math.ceil(m["p50_ms"]) / 1000
        rru += count * reads
        wru += count * writes
        if m["function"] == "stratus-rest":
            http += count
        elif op not in ("$connect", "$disconnect"):
            msgs += count * 2  # the client's message and the function's reply
        rows.append((op, count, why, m["p50_ms"], reads, writes))
    msgs += events
    conn_minutes = minutes

    cost = {
        "lambda requests": inv * p["lambda"]["per_million_requests"] / 1e6,
        "lambda duration": gbs * p["lambda"]["per_gb_second"][arch],
        "api gateway messages": msgs * p["api_gateway"]["websocket_per_million_messages"] / 1e6,
        "api gateway connection minutes": conn_minutes * p["api_gateway"]["websocket_per_million_connection_minutes"] / 1e6,
        "http api requests": http * p["api_gateway"]["http_api_per_million_requests"] / 1e6,
        "dynamodb reads": rru * p["dynamodb"]["per_million_read_request_units"] / 1e6,
        "dynamodb writes": wru * p["dynamodb"]["per_million_write_request_units"] / 1e6,
    }
    signaling_session = sum(cost.values())

    # ---- Media: node capacity from the measured forwarding rate ----
    sfu_n, pps_core = sfu_pps_per_core(sfu_path)
    per_participant_pps = others * (a.video_pps + a.audio_pps)
    capacity = pps_core * a.node_vcpu * a.node_utilisation / per_participant_pps
    f = p["fargate"]
    task_hour = a.node_vcpu * f["per_vcpu_hour"][arch] + a.node_gb * f["per_gb_hour"][arch] + p["ec2"]["public_ipv4_per_hour"]
    media_compute_min = task_hour / 60 / capacity
    egress_gb_min = others * (a.video_kbps + a.audio_kbps) * 1000 / 8 * 60 / 1e9
    egress_min = egress_gb_min * p["ec2"]["internet_egress_per_gb_first_10tb"]

    out = {
        "inputs": {"lambda_cost": lc_path, "sfu_fanout": sfu_path, "prices": a.prices, "prices_read": p["read"]},
        "model": {"room_size": n, "minutes": minutes, "arch": arch, "function_memory_mb": lc["memory_mb"]},
        "per_session": {"invocations": inv, "gb_seconds": gbs, "read_units": rru, "write_units": wru,
                        "websocket_messages": msgs, "http_requests": http, "cost_usd": cost},
        "signaling_per_participant_minute_usd": signaling_session / minutes,
        "media": {
            "sfu_pps_per_core": pps_core, "sfu_row": sfu_n, "participants_per_node": capacity,
            "task_usd_per_hour": task_hour, "compute_per_participant_minute_usd": media_compute_min,
            "egress_gb_per_participant_minute": egress_gb_min, "egress_per_participant_minute_usd": egress_min,
        },
        "total_per_participant_minute_usd": signaling_session / minutes + media_compute_min + egress_min,
    }
    if a.json:
        print(json.dumps(out, indent=2))
        return

    print(f"Model: one participant in a room of {n} for {minutes:g} minutes, functions on {arch} at {lc['memory_mb']} MB.")
    print(f"Inputs: `{lc_path}`, `{sfu_path}`, `{a.prices}` (prices read {p['read'].split(',')[0]}).\n")
    print("| operation | per participant | why | billed ms (p50, rounded up) | DynamoDB read units | write units |")
    print("|---|---:|---|---:|---:|---:|")
    for op, count, why, ms, r, w in rows:
        print(f"| `{op}` | {count:g} | {why} | {math.ceil(ms)} | {r:g} | {w:g} |")
    print(f"\nPer session: {inv:g} invocations, {gbs:.3f} GB-s, {rru:g} read and {wru:g} write units, "
          f"{msgs:g} WebSocket messages ({events} of them node events), {http:g} HTTP API request(s).\n")
    print("| signaling, per session | USD |")
    print("|---|---:|")
    for k, v in cost.items():
        print(f"| {k} | {v:.7f} |")
    print(f"| **total per session** | **{signaling_session:.6f}** |")
    print(f"| **per participant-minute** | **{signaling_session / minutes:.7f}** |\n")
    print("| media | value |")
    print("|---|---:|")
    print(f"| SFU forwarding measured (sfu-fanout, {sfu_n} subscribers, no loss) | {pps_core:,.0f} pkt/s per core |")
    print(f"| packets forwarded to one participant (room of {n}) | {per_participant_pps:,.0f} pkt/s |")
    print(f"| participants per node ({a.node_vcpu:g} vCPU at {a.node_utilisation:.0%}) | {capacity:,.0f} |")
    print(f"| task ({a.node_vcpu:g} vCPU, {a.node_gb:g} GB, {arch}, public IPv4) | ${task_hour:.4f}/hour |")
    print(f"| **node compute per participant-minute** | **${media_compute_min:.7f}** |")
    print(f"| egress to one participant ({others} x {a.video_kbps:g}+{a.audio_kbps:g} kbit/s) | {egress_gb_min * 1000:.1f} MB/min |")
    print(f"| **egress per participant-minute** | **${egress_min:.5f}** |")
    print(f"\n**Total per participant-minute: ${out['total_per_participant_minute_usd']:.5f}**")


if __name__ == "__main__":
    main()
