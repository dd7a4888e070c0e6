// Shared plumbing for the feature scenario files (images.mjs, volumes.mjs, ...): one Modal client configured from
// MODAL_CONFIG_PATH (the engine's profile) in the environment, helpers, and a runner that prints the scenario's result as one JSON line.
import { ModalClient } from "modal";

export const modal = new ModalClient();
export const image = (tag = process.env.TEST_IMAGE ?? "busybox:latest") => modal.images.fromRegistry(tag);
export const app = (name = process.env.TEST_APP ?? "features") => modal.apps.fromName(name, { createIfMissing: true });

export const errorInfo = (e) => ({ name: e?.constructor?.name ?? typeof e, message: String(e?.message ?? e), code: e?.code });

/** Runs fn; returns { ok: true, value } or { ok: false, error: { name, message, code } }. A label is logged to stderr first. */
export async function capture(fn, label) {
  if (label) console.error(`step: ${label}`);
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
}

/** Creates a sandbox, runs body with it and terminates it whatever happens. */
export async function withSandbox(params, body, img = image()) {
  const sb = await modal.sandboxes.create(await app(), img, params);
  try {
    return await body(sb);
  } finally {
    await sb.terminate();
  }
}

/** Runs argv in the sandbox; returns { stdout, stderr, code }. */
export async function run(sb, argv, params) {
  const p = await sb.exec(argv, params);
  const [stdout, stderr] = await Promise.all([p.stdout.readText(), p.stderr.readText()]);
  return { stdout, stderr, code: await p.wait() };
}

/** Runs a shell script in the sandbox; returns { stdout, stderr, code }. */
export const sh = (sb, script, params) => run(sb, ["sh", "-c", script], params);

/** Reads a text stream until it contains `marker`; returns everything read so far (the stream stays open). */
export async function readUntil(reader, marker, sofar = { text: "" }) {
  const decoder = new TextDecoder();
  while (!sofar.text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(`stream ended before '${marker}'; got: ${JSON.stringify(sofar.text)}`);
    }
    sofar.text += typeof value === "string" ? value : decoder.decode(value, { stream: true });
  }
  return sofar.text;
}

/** Dispatches process.argv[2] to one of `scenarios` and prints its result as one JSON line. */
export async function main(scenarios) {
  const name = process.argv[2];
  if (!scenarios[name]) {
    console.error(`unknown scenario '${name}'; known: ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }
  const result = await scenarios[name]();
  console.log(JSON.stringify(result));
  modal.close?.();
  process.exit(0);
}
