// Live network policy, inbound CIDR allow-lists and experimental outbound policies through Modal's JS SDK.
// Usage: node netpolicy.mjs <scenario>   (settings from the environment: MODAL_*, TEST_IMAGE, WEB_A, WEB_B, RUNTIME)
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ExperimentalOutboundPolicy } from "modal";
import { modal, image, app, capture, sh as run, withSandbox, main } from "./harness.mjs";

const get = (address) => `printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 10 ${address} 8080`;
const allow = (cidrs) => ({ outboundCidrAllowlist: cidrs, outboundDomainAllowlist: [] });

// Everything the server sent for one request from a given loopback source address; "" when the connection was reset.
function request(localAddress, port) {
  return new Promise((resolve) => {
    const chunks = [];
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => socket.write("GET /hello.txt HTTP/1.0\r\n\r\n"));
    socket.on("data", (c) => chunks.push(c));
    socket.once("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.once("error", () => {});
  });
}

const scenarios = {
  async "live"() {
    const [a, b] = [process.env.WEB_A, process.env.WEB_B];
    const params = { outboundCidrAllowlist: [], ...(process.env.RUNTIME ? { runtime: process.env.RUNTIME } : {}) };
    return await withSandbox(params, async (sb) => {
      const startsBlocked = await run(sb, get(a));
      await sb.updateNetworkPolicy(allow(["0.0.0.0/0"]));
      const opened = await run(sb, get(a));
      await sb.updateNetworkPolicy(allow([`${a}/32`]));
      const listedA = await run(sb, get(a));
      const unlistedB = await run(sb, get(b));
      await sb.updateNetworkPolicy(allow([]));
      const closedAgain = await run(sb, get(a));
      await sb.updateNetworkPolicy(allow(["0.0.0.0/0"]));
      const reopenedB = await run(sb, get(b));
      const badCidr = await capture(() => sb.updateNetworkPolicy(allow(["not-a-cidr"])));
      const domains = await capture(() => sb.updateNetworkPolicy({ outboundCidrAllowlist: [], outboundDomainAllowlist: ["example.com"] }));
      return { startsBlocked, opened, listedA, unlistedB, closedAgain, reopenedB, badCidr, domains };
    });
  },

  async "blocked"() {
    return await withSandbox({ blockNetwork: true }, async (sb) => ({ open: await capture(() => sb.updateNetworkPolicy(allow(["0.0.0.0/0"]))) }));
  },

  async "inbound"() {
    const command = ["sh", "-c", "mkdir -p /www && echo inside > /www/hello.txt && exec httpd -f -p 8080 -h /www"];
    return await withSandbox({ command, encryptedPorts: [8080], inboundCidrAllowlist: ["127.0.0.2/32"] }, async (sb) => {
      const port = Number(new URL((await sb.tunnels())[8080].url).port);
      let admitted = "";
      // httpd starts with the sandbox: retry (bounded) while the forward resets for want of a listener.
      for (let attempt = 0; attempt < 400 && !admitted.includes("inside"); attempt++) {
        admitted = await request("127.0.0.2", port);
        if (!admitted) await sleep(50);
      }
      return { admitted, refused: await request("127.0.0.1", port) };
    });
  },

  async "outbound-policy"() {
    const headers = new ExperimentalOutboundPolicy().withHeaderReplacement({ domain: "api.example.com", headers: { Authorization: "Bearer x" } });
    const updated = await withSandbox({ experimentalOutboundPolicy: new ExperimentalOutboundPolicy() }, async (sb) => ({
      empty: await capture(() => sb.experimentalUpdateOutboundPolicy(new ExperimentalOutboundPolicy())),
      headers: await capture(() => sb.experimentalUpdateOutboundPolicy(headers)),
    }));
    const without = await withSandbox({}, (sb) => capture(() => sb.experimentalUpdateOutboundPolicy(new ExperimentalOutboundPolicy())));
    const create = await capture(() => app().then((x) => modal.sandboxes.create(x, image(), { experimentalOutboundPolicy: headers })).then((sb) => sb.terminate()));
    return { ...updated, without, create };
  },
};

await main(scenarios);
