// Scenarios the xunit conformance tests run through Modal's official JavaScript SDK.
// Usage: node scenarios.mjs <scenario>   (settings come from the environment: MODAL_* and TEST_IMAGE)
// Each scenario prints one JSON line with what it observed; the C# test asserts on it.
import { createHash } from "node:crypto";
import { modal, image, app, capture, readUntil, withSandbox, main } from "./harness.mjs";

const scenarios = {
  async "exec-output"() {
    return withSandbox({}, async (sb) => {
      const p = await sb.exec(["sh", "-c", "printf 'out\\n\\x01\\xff'; printf 'err line\\n' >&2; exit 3"], { mode: "binary" });
      const [stdout, stderr] = await Promise.all([p.stdout.readBytes(), p.stderr.readBytes()]);
      const code = await p.wait();
      return { id: sb.sandboxId, stdout: Buffer.from(stdout).toString("hex"), stderr: Buffer.from(stderr).toString("utf8"), code };
    });
  },
  async "exec-exit-codes"() {
    return withSandbox({}, async (sb) => {
      const zero = await (await sb.exec(["true"])).wait();
      const one = await (await sb.exec(["false"])).wait();
      const seven = await (await sb.exec(["sh", "-c", "exit 7"])).wait();
      return { zero, one, seven };
    });
  },
  async "exec-large-output"() {
    return withSandbox({}, async (sb) => {
      // 10 MiB of one repeated byte from a single pipeline (a loop of 10240 head|tr pairs spent a minute forking).
      const p = await sb.exec(["sh", "-c", "head -c 10485760 /dev/zero | tr '\\0' 'x'"], { mode: "binary" });
      const bytes = await p.stdout.readBytes();
      const code = await p.wait();
      return { length: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), code };
    });
  },
  async "exec-stdin"() {
    return withSandbox({}, async (sb) => {
      const p = await sb.exec(["cat"]);
      await p.stdin.writeText("first line\n");
      await p.stdin.writeText("second line\n");
      await p.stdin.close();
      const stdout = await p.stdout.readText();
      return { stdout, code: await p.wait() };
    });
  },
  async "exec-wait-twice"() {
    return withSandbox({}, async (sb) => {
      const p = await sb.exec(["sh", "-c", "read line; exit 4"]);
      await p.stdin.writeText("go\n");
      await p.stdin.close();
      const first = await p.wait();
      const second = await p.wait();
      return { first, second };
    });
  },
  async "exec-timeout"() {
    return withSandbox({}, async (sb) => {
      const p = await sb.exec(["sh", "-c", "echo started; sleep 30; echo never"], { timeoutMs: 2000 });
      // wait() is asked at once, well before the SDK's own deadline (which starts after the engine's timer): the answer
      // must be the engine's kill. The output written before the kill is read while the process runs.
      const [waited, started] = await Promise.all([
        capture(() => p.wait()),
        capture(() => readUntil(p.stdout.getReader(), "started\n")),
      ]);
      // The process must be gone: a fresh exec sees no `sleep 30`.
      const ps = await sb.exec(["sh", "-c", "for d in /proc/[0-9]*; do cat $d/cmdline 2>/dev/null | tr '\\0' ' '; echo; done"]);
      const processes = await ps.stdout.readText();
      return { waited, started, sleepStillRunning: processes.includes("sleep 30") };
    });
  },
  async "sandbox-wait-poll"() {
    const sb = await modal.sandboxes.create(await app(), image(), { command: ["sh", "-c", "read x; exit 5"] });
    const before = await sb.poll();
    await sb.stdin.writeText("go\n");
    await sb.stdin.close();
    const code = await sb.wait();
    const after = await sb.poll();
    return { before, code, after };
  },
  async "sandbox-terminate"() {
    const sb = await modal.sandboxes.create(await app(), image());
    const before = await sb.poll();
    await sb.terminate();
    const code = await sb.wait();
    const exec = await capture(() => sb.exec(["true"]).then((p) => p.wait()));
    return { before, code, execAfterTerminate: exec };
  },
  async "sandbox-from-id"() {
    return withSandbox({}, async (sb) => {
      await (await sb.exec(["sh", "-c", "echo remembered > /tmp/marker"])).wait();
      const again = await modal.sandboxes.fromId(sb.sandboxId);
      const p = await again.exec(["cat", "/tmp/marker"]);
      return { sameId: again.sandboxId === sb.sandboxId, stdout: await p.stdout.readText(), poll: await again.poll() };
    });
  },
  async "sandbox-entrypoint"() {
    const sb = await modal.sandboxes.create(await app(), image(), {
      command: ["sh", "-c", "echo from-entrypoint; echo to-stderr >&2; exit 9"],
    });
    const [stdout, stderr] = await Promise.all([sb.stdout.readText(), sb.stderr.readText()]);
    return { id: sb.sandboxId, stdout, stderr, code: await sb.wait() };
  },
  async "bad-input"() {
    const a = await app();
    const missingImage = await capture(() =>
      modal.sandboxes.create(a, modal.images.fromRegistry(process.env.MISSING_IMAGE)).then((sb) => sb.terminate()));
    const unknownSandbox = await capture(() => modal.sandboxes.fromId("sb-AAAAAAAAAAAAAAAAAAAAAA").then((sb) => sb.poll()));
    const tooLong = await capture(() =>
      modal.sandboxes.create(a, image(), { timeoutMs: 25 * 3600 * 1000 }).then((sb) => sb.terminate()));
    const emptyCommand = await withSandbox({}, (sb) => capture(() => sb.exec([]).then((p) => p.wait())));
    const missingApp = await capture(() => modal.apps.fromName("no-such-app-" + Date.now()));
    return { missingImage, unknownSandbox, tooLong, emptyCommand, missingApp };
  },
};

await main(scenarios);
