// Secrets and environment: secrets.fromObject, secrets.fromName (create it first with the engine's command:
//   dotnet run --project src/Server -- secret set examples-db DB_PASSWORD=hunter2 --state-dir <the engine's state dir>)
// env and workdir on create and on exec. Values are never written to the engine's log.
import { modal, baseImage, app, sh } from "./common.mjs";

const a = await app();
const apiKey = await modal.secrets.fromObject({ API_KEY: "sk-example" });
const db = await modal.secrets.fromName("examples-db", { requiredKeys: ["DB_PASSWORD"] });
const sb = await modal.sandboxes.create(a, baseImage(), { secrets: [apiKey, db], env: { STAGE: "dev" }, workdir: "/srv/app" });
console.log(await sh(sb, 'echo "in $(pwd): API_KEY=$API_KEY DB_PASSWORD=$DB_PASSWORD STAGE=$STAGE"'));
console.log(await sh(sb, 'echo "in $(pwd): STAGE=$STAGE"', { env: { STAGE: "exec-override" }, workdir: "/tmp" }));
await sb.terminate();

try {
  await modal.sandboxes.create(a, baseImage(), { env: { "NOT-A-KEY": "x" } });
} catch (e) {
  console.log("bad key:", e.constructor.name, e.message);
}
