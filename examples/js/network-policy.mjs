// Live network policy: a sandbox created with an empty outbound allow-list starts with no egress; updateNetworkPolicy
// opens it, narrows it to CIDRs and closes it again while it runs. inboundCidrAllowlist limits who may connect to a
// tunnel. A sandbox created with blockNetwork has no network to open, and the engine says so.
import net from "node:net";
import { modal, baseImage, app } from "./common.mjs";

const a = await app();
const sb = await modal.sandboxes.create(a, baseImage(), { outboundCidrAllowlist: [] });
await sb.updateNetworkPolicy({ outboundCidrAllowlist: ["0.0.0.0/0"], outboundDomainAllowlist: [] });
console.log("opened to everything");
await sb.updateNetworkPolicy({ outboundCidrAllowlist: ["10.0.0.0/8"], outboundDomainAllowlist: [] });
console.log("narrowed to 10.0.0.0/8");
await sb.updateNetworkPolicy({ outboundCidrAllowlist: [], outboundDomainAllowlist: [] });
console.log("closed again");
await sb.terminate();

const blocked = await modal.sandboxes.create(a, baseImage(), { blockNetwork: true });
try {
  await blocked.updateNetworkPolicy({ outboundCidrAllowlist: ["0.0.0.0/0"], outboundDomainAllowlist: [] });
} catch (e) {
  console.log("opening a blockNetwork sandbox:", e.constructor.name, /blockNetwork/.test(e.message) ? "(it has no network to open)" : e.message);
}
await blocked.terminate();

// Only 127.0.0.2 may use the tunnel; a connection from 127.0.0.1 is reset.
const web = await modal.sandboxes.create(a, baseImage(), {
  command: ["python3", "-m", "http.server", "8080"],
  encryptedPorts: [8080],
  inboundCidrAllowlist: ["127.0.0.2/32"],
});
const port = Number(new URL((await web.tunnels())[8080].url).port);
const connect = (localAddress) =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => socket.write("GET / HTTP/1.0\r\n\r\n"));
    let text = "";
    socket.on("data", (c) => (text += c));
    socket.once("close", () => resolve(text));
    socket.once("error", () => {});
  });
let admitted = "";
for (let i = 0; i < 400 && !admitted.startsWith("HTTP/"); i++) {
  admitted = await connect("127.0.0.2");
  if (!admitted) await new Promise((r) => setTimeout(r, 50));
}
console.log("from 127.0.0.2:", admitted.split("\r\n")[0]);
console.log("from 127.0.0.1:", (await connect("127.0.0.1")) || "reset");
await web.terminate();
