// Timings taken through Modal's official JavaScript SDK against a TypedSandbox engine.
// Usage: node bench.mjs <mode> [args...]   (engine address and token from MODAL_CONFIG_PATH, the engine's profile;
// BENCH_IMAGE names the image, BENCH_APP the app)
//   serve                               timed operations on request, one JSON line in and out each (see below):
//                                       create-exec (create → exec(["echo","hi"]) → first stdout bytes) and
//                                       exec-true (exec(["true"]) + wait() on one running sandbox)
//   stream <streams> <bytesPerStream> <runs>   N concurrent execs each writing a known byte sequence, checked byte for
//                                     byte; one untimed run, then <runs> timed ones
//   create-idle <count> [blocked]       creates idle sandboxes (with no network when "blocked") and prints their ids
//                                       (they stay running after exit)
//   terminate <id...>                   terminates sandboxes by id
// Every other mode prints one JSON line on stdout; times are milliseconds from performance.now().
import { createInterface } from "node:readline";
import { ModalClient } from "modal";
import { expectedSequence, sequenceCommand, dataPath } from "./sequence.mjs";

const modal = new ModalClient();
const imageRef = process.env.BENCH_IMAGE ?? "busybox:latest";
const appName = process.env.BENCH_APP ?? "bench";
// Long enough for the slowest mode; the bench terminates every sandbox it creates.
const sandboxParams = { timeoutMs: 30 * 60 * 1000 };

async function setup() {
  const app = await modal.apps.fromName(appName, { createIfMissing: true });
  const image = modal.images.fromRegistry(imageRef);
  return { app, image };
}

async function firstChunk(stream) {
  const reader = stream.getReader();
  const { value, done } = await reader.read();
  reader.releaseLock();
  if (done) throw new Error("stdout ended before any output");
  return value;
}

async function drain(stream) {
  const reader = stream.getReader();
  while (!(await reader.read()).done) { /* discard */ }
}

const modes = {
  // One timed operation per request line on stdin, so the bench can interleave them with its peers' iterations.
  // Requests: {"op":"create-exec","blockNetwork":false}, {"op":"exec-true"}, {"op":"close"}; one JSON reply line each.
  async serve() {
    const { app, image } = await setup();
    let running = null;
    const ops = {
      // create → exec(["echo","hi"]) → first stdout bytes; the sandbox is terminated after the timed span.
      async "create-exec"(request) {
        const t0 = performance.now();
        const sb = await modal.sandboxes.create(app, image, { ...sandboxParams, blockNetwork: request.blockNetwork === true });
        const t1 = performance.now();
        const p = await sb.exec(["echo", "hi"], { mode: "binary" });
        const t2 = performance.now();
        const chunk = await firstChunk(p.stdout);
        const t3 = performance.now();
        const text = Buffer.from(chunk).toString("utf8");
        await drain(p.stdout);
        await p.wait();
        await sb.terminate();
        if (!text.startsWith("hi")) throw new Error(`unexpected output ${JSON.stringify(text)}`);
        return { total: t3 - t0, create: t1 - t0, exec: t2 - t1, firstOutput: t3 - t2 };
      },
      // exec(["true"]) + wait() on one running sandbox, made (with one untimed exec) on first use.
      async "exec-true"() {
        if (running === null) {
          running = await modal.sandboxes.create(app, image, sandboxParams);
          await (await running.exec(["true"])).wait();
        }
        const t0 = performance.now();
        const code = await (await running.exec(["true"])).wait();
        const t1 = performance.now();
        if (code !== 0) throw new Error(`true exited with ${code}`);
        return { total: t1 - t0 };
      },
    };
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        const request = JSON.parse(line);
        const op = request.op;
        if (op === "close") break;
        try {
          if (!ops[op]) throw new Error(`unknown op '${op}'`);
          process.stdout.write(JSON.stringify({ ok: true, ...(await ops[op](request)) }) + "\n");
        } catch (e) {
          process.stdout.write(JSON.stringify({ ok: false, error: String(e?.stack ?? e) }) + "\n");
        }
      }
    } finally {
      if (running !== null) await running.terminate();
    }
    return { closed: true };
  },

  async stream(streamsArg, bytesArg, runsArg) {
    const streams = Number(streamsArg);
    const bytes = Number(bytesArg);
    const expected = expectedSequence(bytes);
    const { app, image } = await setup();
    const sb = await modal.sandboxes.create(app, image, sandboxParams);
    try {
      const prepare = await sb.exec(["sh", "-c", sequenceCommand(bytes)]);
      const prepared = await prepare.wait();
      if (prepared !== 0) throw new Error(`writing ${dataPath(bytes)} exited with ${prepared}`);
      const one = async () => {
        const p = await sb.exec(["cat", dataPath(bytes)], { mode: "binary" });
        const reader = p.stdout.getReader();
        let offset = 0;
        let mismatch = null;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
          if (mismatch === null && !chunk.equals(expected.subarray(offset, offset + chunk.length))) mismatch = offset;
          offset += chunk.length;
        }
        const code = await p.wait();
        return { received: offset, exact: mismatch === null && offset === bytes && code === 0 };
      };
      const runs = [];
      // One untimed run first: the SDK's connections and node's JIT are warm for the timed ones.
      for (let r = -1; r < Number(runsArg ?? 1); r++) {
        const t0 = performance.now();
        const results = await Promise.all(Array.from({ length: streams }, one));
        const elapsedMs = performance.now() - t0;
        if (r < 0) continue;
        runs.push({
          elapsedMs,
          bytes: results.reduce((sum, x) => sum + x.received, 0),
          inexactStreams: results.filter((x) => !x.exact).length,
        });
      }
      return { expectedBytes: bytes * streams, runs };
    } finally {
      await sb.terminate();
    }
  },

  async "create-idle"(countArg, network) {
    const { app, image } = await setup();
    const ids = [];
    for (let i = 0; i < Number(countArg); i++) {
      const sb = await modal.sandboxes.create(app, image, { ...sandboxParams, blockNetwork: network === "blocked" });
      ids.push(sb.sandboxId);
    }
    return { ids };
  },

  async terminate(...ids) {
    for (const id of ids) {
      const sb = await modal.sandboxes.fromId(id);
      await sb.terminate();
    }
    return { terminated: ids.length };
  },
};

const [mode, ...args] = process.argv.slice(2);
if (!modes[mode]) {
  console.error(`unknown mode '${mode}'; one of ${Object.keys(modes).join(", ")}`);
  process.exit(2);
}
try {
  const result = await modes[mode](...args);
  process.stdout.write(JSON.stringify(result) + "\n");
  modal.close();
  process.exit(0);
} catch (e) {
  console.error(e?.stack ?? String(e));
  process.exit(1);
}
