// An engine handover through Modal's JS SDK: the engine runs with --keep-sandboxes and is restarted (SIGTERM, then a
// new engine on the same state directory and port) while an exec runs. Usage: node handover.mjs stream
// (MARKER: a file this script creates once it has read the first lines; the test restarts the engine then).
import { writeFileSync } from "node:fs";
import { modal, image, app, run, readUntil, main } from "./harness.mjs";

const lines = 300;

const scenarios = {
  async "stream"() {
    const sb = await modal.sandboxes.create(await app(), image(), { tags: { kept: "yes" } });
    const finished = await sb.exec(["echo", "finished before the restart"]);
    const finishedCode = await finished.wait();
    const counting = await sb.exec(["sh", "-c", `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo line-$i; sleep 0.01; done; exit 7`]);
    const reader = counting.stdout.getReader();
    const seen = { text: "" };
    await readUntil(reader, "line-20\n", seen);
    writeFileSync(process.env.MARKER, "read the first lines\n");
    // The engine restarts now; the SDK's stream reopens at its offset on the adopting engine.
    const decoder = new TextDecoder();
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      seen.text += typeof value === "string" ? value : decoder.decode(value, { stream: true });
    }
    reader.releaseLock();
    const code = await counting.wait();
    const finishedText = await finished.stdout.readText();
    const adopted = await modal.sandboxes.fromId(sb.sandboxId);
    const poll = await adopted.poll();
    const tags = await adopted.getTags();
    const after = await run(adopted, ["echo", "after"]);
    await adopted.terminate();
    const end = await adopted.wait();
    return { text: seen.text, code, finishedCode, finishedText, poll, tags, after, end };
  },
};

await main(scenarios);
