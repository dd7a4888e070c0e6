// Named sandboxes (unique among an app's running sandboxes, found by fromName) and tags (set, get, list by subset,
// newest first).
import { modal, baseImage, app } from "./common.mjs";

const a = await app();
const web = await modal.sandboxes.create(a, baseImage(), { name: "web-1", tags: { role: "web", env: "dev" } });
try {
  await modal.sandboxes.create(a, baseImage(), { name: "web-1" });
} catch (e) {
  console.log("second 'web-1':", e.constructor.name);
}
const found = await modal.sandboxes.fromName("typedsandbox-examples", "web-1");
console.log("fromName finds", found.sandboxId, found.sandboxId === web.sandboxId);

const worker = await modal.sandboxes.create(a, baseImage(), { tags: { role: "worker" } });
await worker.setTags({ role: "worker", env: "dev" });
console.log("worker tags:", await worker.getTags());
for await (const sb of modal.sandboxes.list({ appId: a.appId, tags: { env: "dev" } })) {
  console.log("env=dev:", sb.sandboxId, await sb.getTags());
}

await Promise.all([web.terminate(), worker.terminate()]);
await web.wait();
try {
  await modal.sandboxes.fromName("typedsandbox-examples", "web-1");
} catch (e) {
  console.log("after terminate, fromName:", e.constructor.name);
}
