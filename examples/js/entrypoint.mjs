// Entrypoint sandboxes: the command is the sandbox's main process; its output streams while it runs, stdin goes to
// it, and the sandbox ends with its exit code.
import { modal, baseImage, app } from "./common.mjs";

const a = await app();
const sb = await modal.sandboxes.create(a, baseImage(), {
  command: ["sh", "-c", 'echo "ready for input"; while read line; do echo "you said: $line"; [ "$line" = bye ] && exit 7; done'],
});
const out = sb.stdout.getReader();
const decoder = new TextDecoder();
const next = async () => {
  const { value } = await out.read();
  return typeof value === "string" ? value : decoder.decode(value);
};
process.stdout.write(await next()); // printed while the entrypoint still runs
await sb.stdin.writeText("hello\n");
process.stdout.write(await next());
await sb.stdin.writeText("bye\n");
await sb.stdin.close();
console.log("exit code:", await sb.wait());
