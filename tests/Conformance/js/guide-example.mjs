// The JavaScript example of Modal's Sandboxes guide, unchanged except that exec's `timeout` is spelled `timeoutMs`
// (the name every ModalClient-era SDK uses). Configuration comes only from MODAL_CONFIG_PATH (the engine's profile:
// server URL and token pair).
import { ModalClient } from "modal";

const modal = new ModalClient();
const app = await modal.apps.fromName("libmodal-example", { createIfMissing: true });
const image = modal.images.fromRegistry("python:3.13-slim");

const sb = await modal.sandboxes.create(app, image);
console.log("Started Sandbox:", sb.sandboxId);

const p = await sb.exec(["python", "-c", "print('hello')"], { timeoutMs: 3000 });
console.log(await p.stdout.readText());

const p2 = await sb.exec(
  ["bash", "-c", "for i in {1..10}; do date +%T; sleep 0.5; done"],
  { timeoutMs: 5000 },
);
for await (const line of p2.stdout) {
  process.stdout.write(line);
}

await sb.terminate();
