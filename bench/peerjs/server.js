// The PeerJS signaling server (npm `peer`) on loopback, for bench/ws_relay.sh.
// Usage: node server.js PORT
const { PeerServer } = require("peer");
const port = Number(process.argv[2] || 9000);
PeerServer({ host: "127.0.0.1", port, path: "/", key: "peerjs", concurrent_limit: 100000, alive_timeout: 600000 }, () =>
  console.log(`peerjs listening on http://127.0.0.1:${port}`),
);
