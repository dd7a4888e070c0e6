// verbose: true on create, observed through sb.logs (AppFetchLogs / AppCountLogs) with Modal's JavaScript SDK.
// Usage: node verbose.mjs <scenario>   (settings come from the environment: MODAL_* and TEST_IMAGE)
// Each scenario prints one JSON line with what it observed; the C# test asserts on it.
import { modal, image, app, main } from "./harness.mjs";

// The same exec and filesystem calls, in a sandbox created with the given verbose flag; then its system log.
async function activity(verbose) {
  const sb = await modal.sandboxes.create(await app(), image(), { verbose });
  try {
    const p = await sb.exec(["echo", "hello verbose"]);
    await p.stdout.readText();
    await p.wait();
    await (await sb.exec(["sh", "-c", "exit 3"])).wait();
    await sb.filesystem.writeText("logged", "/tmp/verbose.txt");
    await sb.filesystem.readText("/tmp/verbose.txt");
    await sb.filesystem.listFiles("/tmp");
    await sb.filesystem.readText("/tmp/missing.txt").catch(() => {});
    const tail = [];
    for await (const entry of sb.logs.tail({ entries: 100 })) tail.push({ source: entry.source, message: entry.message });
    const system = [];
    for await (const entry of sb.logs.tail({ source: "system" })) system.push(entry.message);
    const stdout = [];
    for await (const entry of sb.logs.tail({ source: "stdout" })) stdout.push(entry.message);
    const fetched = [];
    for await (const entry of sb.logs.fetch({ since: new Date(Date.now() - 3600_000) })) fetched.push(entry.message);
    const searched = [];
    for await (const entry of sb.logs.fetch({ since: new Date(Date.now() - 3600_000), searchText: "ReadFile" })) searched.push(entry.message);
    return { tail, system, stdout, fetched, searched };
  } finally {
    await sb.terminate();
  }
}

const scenarios = {
  async "verbose-logs"() {
    return { verbose: await activity(true), quiet: await activity(false) };
  },
};

await main(scenarios);
