// Files: sb.filesystem reads, writes, lists, makes, stats and removes files inside the sandbox (resolved in the
// sandbox's own filesystem, so '..' and symlinks cannot reach the host); verbose sandboxes log file operations.
import { modal, baseImage, app } from "./common.mjs";

const sb = await modal.sandboxes.create(await app(), baseImage(), { verbose: true });
await sb.filesystem.makeDirectory("/srv/notes", { parents: true });
await sb.filesystem.writeText("hello from the host\n", "/srv/notes/hello.txt");
console.log("read back:", (await sb.filesystem.readText("/srv/notes/hello.txt")).trim());
console.log("listing:", (await sb.filesystem.listFiles("/srv/notes")).map((f) => f.name));
console.log("stat:", await sb.filesystem.stat("/srv/notes/hello.txt"));
await sb.filesystem.remove("/srv/notes", { recursive: true });
try {
  await sb.filesystem.readText("/srv/notes/hello.txt");
} catch (e) {
  console.log("after remove:", e.constructor.name);
}
for await (const entry of sb.logs.tail({ source: "system" })) console.log("verbose log:", entry.message.trim());
await sb.terminate();
