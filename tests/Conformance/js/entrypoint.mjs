// Entrypoint sandboxes through Modal's JS SDK: output streamed while the entrypoint runs, stdin to it, exit code.
// Usage: node entrypoint.mjs <scenario>
import { modal, image, app, capture, run, readUntil, main } from "./harness.mjs";

const scenarios = {
  async "interactive"() {
    // The entrypoint prints, then blocks on stdin: seeing "ready" before writing proves output streams while it runs.
    const sb = await modal.sandboxes.create(await app(), image(), {
      command: ["sh", "-c", "echo ready; echo err-ready >&2; while read line; do echo got:$line; [ \"$line\" = quit ] && exit 42; done; exit 1"],
    });
    const out = sb.stdout.getReader();
    const seen = { text: "" };
    const ready = await readUntil(out, "ready\n", seen);
    const pollWhileRunning = await sb.poll();
    await sb.stdin.writeText("hello\n");
    const afterHello = await readUntil(out, "got:hello\n", seen);
    await sb.stdin.writeText("quit\n");
    await sb.stdin.close();
    const code = await sb.wait();
    const rest = await readUntil(out, "got:quit\n", seen);
    out.releaseLock();
    const stderr = await sb.stderr.readText();
    const afterExit = await capture(() => sb.exec(["true"]).then((p) => p.wait()));
    return { id: sb.sandboxId, ready, pollWhileRunning, afterHello, rest, stderr, code, poll: await sb.poll(), afterExit };
  },
  async "exec-alongside"() {
    // Execs run beside the entrypoint; the sandbox lives until the entrypoint exits.
    const sb = await modal.sandboxes.create(await app(), image(), { command: ["sh", "-c", "read x; exit 0"] });
    const exec = await run(sb, ["sh", "-c", "echo beside"]);
    await sb.stdin.writeText("go\n");
    await sb.stdin.close();
    return { exec, code: await sb.wait(), poll: await sb.poll() };
  },
  async "http-server"() {
    // A server as the entrypoint (python's http.server), reached from an exec inside the sandbox.
    const sb = await modal.sandboxes.create(await app(), modal.images.fromRegistry(process.env.PYTHON_IMAGE), {
      command: ["python3", "-m", "http.server", "8080", "--directory", "/srv"],
      workdir: "/srv",
    });
    try {
      await run(sb, ["sh", "-c", "mkdir -p /srv && echo served-page > /srv/index.html"]);
      const fetch = await run(sb, ["python3", "-c", `
import time, urllib.request
for attempt in range(200):
    try:
        print(urllib.request.urlopen("http://127.0.0.1:8080/index.html").read().decode(), end="")
        break
    except OSError:
        time.sleep(0.05)
`]);
      const logs = sb.stderr.getReader();
      const serverLog = await readUntil(logs, "GET /index.html");
      logs.releaseLock();
      return { fetch, serverLogged: serverLog.includes("GET /index.html"), poll: await sb.poll() };
    } finally {
      await sb.terminate();
    }
  },
};

await main(scenarios);
