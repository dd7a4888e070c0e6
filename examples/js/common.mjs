// Shared by the examples: a Modal client for the local engine (MODAL_CONFIG_PATH=<state-dir>/modal.toml, the profile
// the engine writes and prints at start; see README.md), the image the examples start from, and the app they run in.
import { ModalClient } from "modal";

export const modal = new ModalClient();

/** The base image: IMAGE, or Debian (the engine builds debian:<suite>-slim itself when no registry serves it). */
export const baseImage = () => modal.images.fromRegistry(process.env.IMAGE ?? "debian:bookworm-slim");

export const app = () => modal.apps.fromName("typedsandbox-examples", { createIfMissing: true });

/** Runs a command in a sandbox and returns its stdout (throws on a non-zero exit). */
export async function sh(sb, script, params) {
  const p = await sb.exec(["sh", "-c", script], params);
  const [stdout, stderr] = await Promise.all([p.stdout.readText(), p.stderr.readText()]);
  const code = await p.wait();
  if (code !== 0) throw new Error(`'${script}' exited with ${code}: ${stderr}`);
  return stdout;
}
