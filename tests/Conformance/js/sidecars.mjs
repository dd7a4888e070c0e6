// Sidecar containers through Modal's JS SDK (sb.experimentalSidecars): a second container from another image in the
// sandbox's network, with its own filesystem and lifetime. Usage: node sidecars.mjs <scenario>  (TEST_APP names the app).
import { modal, image, app, capture, run, sh, main } from "./harness.mjs";

// busybox with a file only this image has.
const sidecarImage = async (a) => image().dockerfileCommands(["RUN echo sidecar-only > /sidecar-file"]).build(a);

const names = (list) => list.map((c) => c.containerName);

// TEST_RUNTIME=gvisor runs the sandbox (and so its sidecars) under gVisor whatever the engine's default;
// TEST_BLOCK_NETWORK=1 blocks its network (the loopback stays).
const sandboxOptions = {
  ...(process.env.TEST_RUNTIME ? { runtime: process.env.TEST_RUNTIME } : {}),
  ...(process.env.TEST_BLOCK_NETWORK ? { blockNetwork: true } : {}),
};

const scenarios = {
  async "lifecycle"() {
    const a = await app();
    const side = await sidecarImage(a);
    const sb = await modal.sandboxes.create(a, image(), sandboxOptions);
    const sidecars = sb.experimentalSidecars;
    const ids = [];
    try {
      // A server in the main container, on its loopback only.
      await sh(sb, "mkdir -p /www && echo from-main > /www/index.html && httpd -p 127.0.0.1:8000 -h /www");
      const helper = await sidecars.create("helper", side);
      ids.push(helper.containerId);
      const own = await run(helper, ["cat", "/sidecar-file"]);
      const mainLacks = await sh(sb, "cat /sidecar-file 2>&1 || echo missing");
      const reached = await run(helper, ["wget", "-qO-", "http://127.0.0.1:8000/"]);
      await sh(helper, "mkdir -p /w && echo from-sidecar > /w/index.html && httpd -p 127.0.0.1:8001 -h /w");
      const reverse = await run(sb, ["wget", "-qO-", "http://127.0.0.1:8001/"]);
      const listed = names(await sidecars.list());
      const got = (await sidecars.get("helper")).containerId === helper.containerId;
      const duplicate = await capture(() => sidecars.create("helper", side), "duplicate");
      const reserved = await capture(() => sidecars.create("main", side), "reserved");
      const unknown = await capture(() => sidecars.get("nope"), "unknown");
      const pollRunning = await helper.poll();
      const terminated = await helper.terminate({ wait: true });
      const sandboxPoll = await sb.poll();
      const mainStill = await run(sb, ["echo", "main still runs"]);
      const listedAfter = names(await sidecars.list());
      const listedAll = names(await sidecars.list({ includeTerminated: true }));
      const getTerminated = await capture(() => sidecars.get("helper"), "get terminated");
      const execTerminated = await capture(() => helper.exec(["true"]), "exec terminated");
      const worker = await sidecars.create("worker", side, { command: ["sh", "-c", "exit 3"], env: { MODE: "x" } });
      ids.push(worker.containerId);
      const workerCode = await worker.wait();
      const workerPoll = await (await sidecars.get("worker", { includeTerminated: true })).poll();
      const last = await sidecars.create("last", side, { command: ["sleep", "1000"] });
      ids.push(last.containerId);
      await sb.terminate();
      const sandboxCode = await sb.wait();
      const lastCode = await last.wait();
      const afterSandbox = await capture(() => sidecars.create("later", side), "after sandbox");
      return {
        sandboxId: sb.sandboxId, ids, own, mainLacks, reached, reverse, listed, got, duplicate, reserved, unknown, pollRunning, terminated,
        sandboxPoll, mainStill, listedAfter, listedAll, getTerminated, execTerminated, workerCode, workerPoll, sandboxCode, lastCode, afterSandbox,
      };
    } finally {
      await sb.terminate();
    }
  },

  async "bounded"() {
    const a = await app();
    const side = await sidecarImage(a);
    const sb = await modal.sandboxes.create(a, image());
    try {
      const created = [];
      for (let i = 0; i < 8; i++) {
        created.push((await sb.experimentalSidecars.create(`s${i}`, side)).containerName);
      }
      const ninth = await capture(() => sb.experimentalSidecars.create("s8", side), "ninth");
      const badName = await capture(() => sb.experimentalSidecars.create("has space", side), "bad name");
      const volume = await modal.volumes.fromName("sidecar-volume", { createIfMissing: true });
      const withVolume = await capture(() => sb.experimentalSidecars.create("v", side, { volumes: { "/data": volume } }), "volume");
      return { created, ninth, badName, withVolume };
    } finally {
      await sb.terminate();
    }
  },

  async "snapshot-refused"() {
    const a = await app();
    const side = await sidecarImage(a);
    const sb = await modal.sandboxes.create(a, image(), { experimentalEnableSnapshot: true, blockNetwork: true });
    try {
      return { refused: await capture(() => sb.experimentalSidecars.create("helper", side), "snapshot") };
    } finally {
      await sb.terminate();
    }
  },
};

await main(scenarios);
