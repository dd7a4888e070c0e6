// Tunnels, idle timeout, resources, network policy and filesystem snapshots through Modal's official JavaScript SDK.
// Usage: node network.mjs <scenario>   (settings come from the environment: MODAL_*, TEST_IMAGE, WEB_A, WEB_B)
// Each scenario prints one JSON line with what it observed; the C# tests assert on it.
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { modal, image, app, capture, sh as run, withSandbox, main } from "./harness.mjs";

// A server started by the sandbox's entrypoint needs a moment to listen: retry while the tunnel says "nothing there".
async function fetchWhenUp(url) {
  let last;
  for (let attempt = 0; attempt < 100; attempt++) {
    // A timer of our own, not AbortSignal.timeout: that one's timer does not keep node alive, and undici's fetch can
    // stay pending with no socket left when the peer resets at once, so node exited 13 ("unsettled top-level await").
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(new Error("no answer within 10 s")), 10000);
    try {
      const response = await fetch(url, { headers: { connection: "close" }, signal: controller.signal });
      return { status: response.status, body: await response.text() };
    } catch (e) {
      last = e;
      await sleep(100);
    } finally {
      clearTimeout(deadline);
    }
  }
  throw last;
}

// Opens a TCP connection and resolves once connected (or rejects with the socket error).
function connect(host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

// Resolves with everything the peer sent once it closes its side.
function readAll(socket) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    socket.on("data", (c) => chunks.push(c));
    socket.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.once("error", reject);
  });
}

// busybox httpd, or Python's http.server when SERVER=python (busybox httpd drops some connections under gVisor).
// Everything a server sends until it closes; empty when the connection is reset (nothing listening yet).
function receiveAll(host, port) {
  return new Promise((resolve) => {
    const chunks = [];
    const socket = net.connect({ host, port });
    socket.on("data", (c) => chunks.push(c));
    socket.once("end", () => { socket.destroy(); resolve(Buffer.concat(chunks)); });
    socket.once("error", () => resolve(Buffer.alloc(0)));
  });
}

// Sends a request and resolves with everything the server sent until it closed; empty when it reset the connection.
function requestRaw(host, port, request) {
  return new Promise((resolve) => {
    const chunks = [];
    const socket = net.connect({ host, port }, () => socket.write(request));
    socket.on("data", (c) => chunks.push(c));
    socket.once("close", () => resolve(Buffer.concat(chunks)));
    socket.once("error", () => {});
  });
}

// Sends everything then closes; true once the server closed too, false when the connection was reset.
function sendAll(host, port, data) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => socket.end(data));
    socket.on("data", () => {});
    socket.once("close", (hadError) => resolve(!hadError));
    socket.once("error", () => {});
  });
}

const httpServer = (port, text) =>
  `mkdir -p /www && echo ${text} > /www/hello.txt && ` +
  (process.env.SERVER === "python" ? `exec python3 -m http.server ${port} --bind 0.0.0.0 -d /www` : `exec httpd -f -p ${port} -h /www`);

const tunnelInfo = (t) => ({
  host: t.host,
  port: t.port,
  url: t.url,
  tcpSocket: t.tcpSocket,
});

// The idle tests' clock: a sandbox with the same idle timeout and no activity at all, made after the sandbox under
// test. Once it has idled out (its exit code is returned), the sandbox under test has been idle-eligible for at
// least as long, so it is still running only because of its activity. No sleep stands in for the timeout.
async function idleWitness() {
  const witness = await modal.sandboxes.create(await app(), image(), { idleTimeoutMs: 2000 });
  return witness.wait();
}

const scenarios = {
  async "tunnel-http"() {
    const sb = await modal.sandboxes.create(await app(), image(), {
      command: ["sh", "-c", httpServer(8000, "hello-through-the-tunnel")],
      encryptedPorts: [8000],
      unencryptedPorts: [8001],
      h2Ports: [8002],
      blockNetwork: process.env.BLOCK_NETWORK === "1",
    });
    try {
      const tunnels = await sb.tunnels();
      const [host, port] = tunnels[8000].tcpSocket;
      const response = await fetchWhenUp(`http://${host}:${port}/hello.txt`);
      // A declared port nothing listens on: the connection is made and then reset.
      const [closedHost, closedPort] = tunnels[8001].tcpSocket;
      // A raw request rather than fetch: undici's fetch can stay pending with no socket left when the peer resets at
      // once (node then exits 13, "unsettled top-level await"), which hid the outcome under gVisor now and then.
      const nothingListening = await capture(async () => {
        const answer = await requestRaw(closedHost, closedPort, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        if (answer.length === 0) throw new Error("fetch failed: the connection was closed without an answer");
        return answer.toString("utf8");
      });
      // A handle without the cached tunnels asks the engine (SandboxGetTunnels).
      const again = await modal.sandboxes.fromId(sb.sandboxId);
      const fetched = await again.tunnels();
      await sb.terminate();
      await sb.wait();
      const afterTerminate = await capture(() => connect(host, port).then((s) => s.destroy()));
      return {
        id: sb.sandboxId,
        ports: Object.keys(tunnels).map(Number).sort(),
        tunnels: Object.fromEntries(Object.entries(tunnels).map(([k, t]) => [k, tunnelInfo(t)])),
        fetched: Object.fromEntries(Object.entries(fetched).map(([k, t]) => [k, tunnelInfo(t)])),
        response,
        nothingListening,
        afterTerminate,
      };
    } finally {
      await sb.terminate();
    }
  },

  async "tunnel-large"() {
    // 8 MiB each way through tunnels, byte-exact: a download from the sandbox, then an upload into it.
    return withSandbox({ encryptedPorts: [9000, 9001], blockNetwork: process.env.BLOCK_NETWORK === "1" }, async (sb) => {
      await run(sb, "head -c 8388608 /dev/urandom > /root/big");
      const bigSha256 = (await run(sb, "sha256sum /root/big | cut -d' ' -f1")).stdout.trim();
      const server = await sb.exec(["sh", "-c", "nc -l -p 9000 < /root/big; nc -l -p 9001 > /root/up; sha256sum /root/up | cut -d' ' -f1"]);
      const tunnels = await sb.tunnels();
      let downloaded;
      for (let attempt = 0; attempt < 100 && !downloaded; attempt++) {
        const bytes = await receiveAll(...tunnels[9000].tcpSocket);
        if (bytes.length > 0) downloaded = bytes;
        else await sleep(100);
      }
      const upload = randomBytes(8 * 1024 * 1024);
      let uploaded = false;
      for (let attempt = 0; attempt < 100 && !uploaded; attempt++) {
        uploaded = await sendAll(...tunnels[9001].tcpSocket, upload);
        if (!uploaded) await sleep(100);
      }
      const uploadSha256 = (await server.stdout.readText()).trim();
      return {
        bigSha256,
        downloadedLength: downloaded?.length ?? 0,
        downloadedSha256: downloaded ? createHash("sha256").update(downloaded).digest("hex") : null,
        uploaded,
        uploadSha256,
        sentSha256: createHash("sha256").update(upload).digest("hex"),
        serverCode: await server.wait(),
      };
    });
  },

  async "tunnel-none"() {
    return withSandbox({}, async (sb) => ({ tunnels: await sb.tunnels() }));
  },

  async "tunnel-bad-ports"() {
    const a = await app();
    const twice = await capture(() =>
      modal.sandboxes.create(a, image(), { encryptedPorts: [8000], unencryptedPorts: [8000] }).then((sb) => sb.terminate()));
    const outOfRange = await capture(() =>
      modal.sandboxes.create(a, image(), { encryptedPorts: [70000] }).then((sb) => sb.terminate()));
    return { twice, outOfRange };
  },

  async "idle-timeout"() {
    const sb = await modal.sandboxes.create(await app(), image(), { idleTimeoutMs: 2000 });
    const code = await sb.wait();
    const exec = await capture(() => sb.exec(["true"]).then((p) => p.wait()));
    return { id: sb.sandboxId, code, execAfter: exec };
  },

  async "idle-exec-keeps-alive"() {
    const sb = await modal.sandboxes.create(await app(), image(), { idleTimeoutMs: 2000 });
    // Runs until told to stop, which is after an idle sandbox with the same timeout, made later, has ended.
    const p = await sb.exec(["sh", "-c", "while [ ! -e /tmp/stop ]; do sleep 0.1; done; echo finished"]);
    const witnessCode = await idleWitness();
    const pollAfterWitness = await sb.poll();
    await run(sb, "touch /tmp/stop");
    const [stdout, stderr] = await Promise.all([p.stdout.readText(), p.stderr.readText()]);
    const long = { stdout, stderr, code: await p.wait() };
    const code = await sb.wait();
    return { id: sb.sandboxId, long, witnessCode, pollAfterWitness, code };
  },

  async "idle-stdin-keeps-alive"() {
    // The entrypoint alone is not activity; writes to its stdin are. They go on until the witness has idled out.
    const sb = await modal.sandboxes.create(await app(), image(), { command: ["cat"], idleTimeoutMs: 2000 });
    const witness = idleWitness();
    let witnessCode;
    witness.then((code) => { witnessCode = code; });
    let lines = 0;
    while (witnessCode === undefined) {
      await sb.stdin.writeText(`line ${lines++}\n`);
      await Promise.race([witness, sleep(500)]);
    }
    const pollWhileWriting = await sb.poll();
    const code = await sb.wait();
    const stdout = await sb.stdout.readText();
    return { id: sb.sandboxId, witnessCode, pollWhileWriting, lines, code, stdout };
  },

  async "idle-tunnel-keeps-alive"() {
    const sb = await modal.sandboxes.create(await app(), image(), {
      // A TCP echo-to-stdout server that takes one connection after another.
      command: ["sh", "-c", "while true; do nc -l -p 7000; done"],
      encryptedPorts: [7000],
      idleTimeoutMs: 2000,
    });
    const [host, port] = (await sb.tunnels())[7000].tcpSocket;
    let socket;
    for (let attempt = 0; attempt < 100 && !socket; attempt++) {
      // The tunnel accepts at once; a reset (while connecting or right after) means nc is not listening yet.
      const s = await connect(host, port).catch(() => null);
      let reset = s === null;
      if (s) {
        const onProbeError = () => {};
        s.on("error", onProbeError);
        reset = await Promise.race([
          new Promise((resolve) => s.once("close", () => resolve(true))),
          sleep(300).then(() => false),
        ]);
        s.off("error", onProbeError);
      }
      if (reset) await sleep(100);
      else socket = s;
    }
    if (!socket) throw new Error("the sandbox's server never took a connection through the tunnel");
    socket.write("first\n");
    // Hold the connection, with nothing else going on, until an idle sandbox made after this one has ended.
    const witnessCode = await idleWitness();
    const pollWhileConnected = await sb.poll();
    socket.write("second\n");
    await new Promise((resolve) => socket.end(resolve));
    socket.destroy();
    const code = await sb.wait();
    const stdout = await sb.stdout.readText();
    return { id: sb.sandboxId, witnessCode, pollWhileConnected, code, stdout };
  },

  async "resources"() {
    return withSandbox({ memoryMiB: 128, cpu: 0.5 }, async (sb) => {
      const memoryLimit = await run(sb, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes");
      const cpuQuota = await run(sb, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us");
      // Touches 256 MiB (the whole dd buffer) under a 128 MiB limit: the OOM killer ends it.
      const hog = await run(sb, "dd if=/dev/zero of=/dev/null bs=256M count=1");
      const small = await run(sb, "dd if=/dev/zero of=/dev/null bs=16M count=1 2>/dev/null && echo fits");
      return { memoryLimit, cpuQuota, hog, small, pollAfter: await sb.poll() };
    });
  },

  async "resource-bad-input"() {
    const a = await app();
    const tinyMemory = await capture(() => modal.sandboxes.create(a, image(), { memoryMiB: 2 }).then((sb) => sb.terminate()));
    const tinyCpu = await capture(() => modal.sandboxes.create(a, image(), { cpu: 0.005 }).then((sb) => sb.terminate()));
    return { tinyMemory, tinyCpu };
  },

  async "resource-limits"() {
    // Explicit limits above the requests: the limits are what the cgroup enforces.
    return withSandbox({ memoryMiB: 64, memoryLimitMiB: 192, cpu: 0.25, cpuLimit: 1.5 }, async (sb) => ({
      memoryLimit: await run(sb, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"),
      cpuQuota: await run(sb, "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
    }));
  },

  async "network-policy"() {
    const a = process.env.WEB_A;
    const b = process.env.WEB_B;
    const get = (address) => `printf 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${address} 8080`;
    const open = await withSandbox({}, async (sb) => ({ a: await run(sb, get(a)), b: await run(sb, get(b)) }));
    const blocked = await withSandbox({ blockNetwork: true }, async (sb) => ({
      links: await run(sb, "ip -o link | cut -d: -f2"),
      a: await run(sb, get(a)),
    }));
    const allowA = await withSandbox({ outboundCidrAllowlist: [`${a}/32`] }, async (sb) => ({ a: await run(sb, get(a)), b: await run(sb, get(b)) }));
    const allowNothing = await withSandbox({ outboundCidrAllowlist: [] }, async (sb) => ({ a: await run(sb, get(a)) }));
    const badCidr = await capture(() =>
      app().then((x) => modal.sandboxes.create(x, image(), { outboundCidrAllowlist: ["not-a-cidr"] })).then((sb) => sb.terminate()));
    const domains = await capture(() =>
      app().then((x) => modal.sandboxes.create(x, image(), { outboundDomainAllowlist: ["not a domain"] })).then((sb) => sb.terminate()));
    return { open, blocked, allowA, allowNothing, badCidr, domains };
  },

  async "snapshot-filesystem"() {
    const source = await modal.sandboxes.create(await app(), image(), {});
    let snapshot;
    let later;
    let prepared;
    try {
      prepared = await run(source, [
        "mkdir -p /data/nested && echo kept > /data/nested/file.txt",
        "echo changed > /etc/motd-like",
        "rm /etc/group",
        "rm -rf /home && mkdir /home && echo only > /home/new.txt",
        "ln -s /data/nested/file.txt /data/link",
        "echo in-tmp > /tmp/kept-too",
      ].join(" && "));
      snapshot = await source.snapshotFilesystem();
      // The source keeps running and its later changes are not in the snapshot.
      later = await run(source, "echo later > /data/later.txt && cat /data/nested/file.txt");
    } finally {
      await source.terminate();
    }
    const fromId = await modal.images.fromId(snapshot.imageId);
    const sb = await modal.sandboxes.create(await app(), fromId, {});
    try {
      const check = await run(sb, [
        "cat /data/nested/file.txt /etc/motd-like /data/link",
        "ls /home",
        "test -e /etc/group && echo group-present || echo group-gone",
        "test -e /data/later.txt && echo later-present || echo later-gone",
        "test -e /tmp/kept-too && echo tmp-present || echo tmp-gone",
        "test -e /bin/busybox && echo image-intact",
      ].join("; "));
      // A snapshot of a sandbox started from a snapshot: a directory replaced as a whole hides what was below it.
      await run(sb, "rm -rf /data && mkdir /data && echo only-this > /data/replaced.txt");
      const second = await sb.snapshotFilesystem();
      const third = await modal.sandboxes.create(await app(), second, {});
      let chained;
      try {
        chained = await run(third, "ls /data; cat /etc/motd-like");
      } finally {
        await third.terminate();
      }
      const afterTerminate = await capture(() => source.snapshotFilesystem());
      return { imageId: snapshot.imageId, prepared, later, check, secondImageId: second.imageId, chained, afterTerminate };
    } finally {
      await sb.terminate();
    }
  },
};

await main(scenarios);
