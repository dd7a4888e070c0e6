// Files: sb.filesystem reads, writes, lists, makes, stats and removes files inside the sandbox (resolved in the
// sandbox's own filesystem, so '..' and symlinks cannot reach the host); verbose sandboxes log file operations.
import { modal, baseImage, app } from "./common.mjs";

const sb = await modal.sandboxes.create(await app(), baseImage(), { verbose: true });
await sb.filesystem.makeDirectory("/work/notes", { parents: true });
await sb.filesystem.writeText("hello from the host\n", "/work/notes/hello.txt");
console.log("read back:", (await sb.filesystem.readText("/work/notes/hello.txt")).trim());
console.log("listing:", (await sb.filesystem.listFiles("/work/notes")).map((f) => f.name));
console.log("stat:", await sb.filesystem.stat("/work/notes/hello.txt"));
await sb.filesystem.remove("/work", { recursive: true });
try {
  await sb.filesystem.readText("/work/notes/hello.txt");
} catch (e) {
  console.log("after remove:", e.constructor.name);
}
for await (const entry of sb.logs.tail({ source: "system" })) console.log("verbose log:", entry.message.trim());
await sb.terminate();
