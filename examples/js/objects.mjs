// Lifecycle of objects: publish a built image under a name and find it again, delete it; delete a volume (refused
// while a sandbox mounts it); environments with their own apps and volumes, deleted with everything in them.
import { modal, baseImage, app, sh } from "./common.mjs";

const a = await app();
const built = await baseImage().dockerfileCommands(["RUN echo 'baked in' > /motd"]).build(a);
await built.publish("examples-motd:v1");
const found = await modal.images.fromName("examples-motd:v1");
console.log("published name resolves to the same image:", found.imageId === built.imageId);
const sb = await modal.sandboxes.create(a, found);
console.log("a sandbox from the published image reads:", (await sh(sb, "cat /motd")).trim());
await sb.terminate();
await modal.images.delete(built.imageId);
const gone = await modal.images.fromName("examples-motd:v1").catch((e) => e.constructor.name);
console.log("after images.delete, fromName:", gone);

const vol = await modal.volumes.fromName("examples-scratch", { createIfMissing: true });
const user = await modal.sandboxes.create(a, baseImage(), { volumes: { "/scratch": vol } });
const refused = await modal.volumes.delete("examples-scratch").catch((e) => e.message);
console.log("deleting a mounted volume:", refused.includes("is mounted by running sandbox") ? "refused" : refused);
await user.terminate();
await modal.volumes.delete("examples-scratch");
console.log("after volumes.delete, fromName:", await modal.volumes.fromName("examples-scratch").catch((e) => e.constructor.name));

const name = `examples-env-${Date.now()}`;
await modal.environments.objects.create(name);
const envApp = await modal.apps.fromName("examples-app", { environment: name, createIfMissing: true });
const envVol = await modal.volumes.fromName("examples-scratch", { environment: name, createIfMissing: true });
console.log(`'${name}' has its own app and volume:`, envApp.appId !== a.appId, envVol.volumeId !== vol.volumeId);
const names = [];
for await (const env of modal.environments.objects.list()) names.push(env.name);
console.log("environments:", names.includes("main") && names.includes(name) ? "main and the new one" : names);
await modal.environments.objects.delete(name);
console.log("after environments.objects.delete, its volume:",
  await modal.volumes.fromName("examples-scratch", { environment: name }).catch((e) => e.constructor.name));
