// PTY execs and PTY sandboxes through Modal's JS SDK (`pty: true`): a real terminal in the sandbox (24x80, as the SDK
// asks), all output on stdout, Ctrl-C (0x03 on stdin) as an interrupt, Ctrl-D when stdin is closed.
// Usage: node pty.mjs <scenario>
import { modal, image, app, run, sh, readUntil, withSandbox, main } from "./harness.mjs";

// Traps SIGINT: only a line discipline turning 0x03 into SIGINT for the foreground group prints "interrupted".
const TRAP = 'trap "echo interrupted; exit 5" INT; echo ready; while true; do sleep 1; done';

/** Reads a stream to its end, appending to `seen.text`. */
async function readToEnd(reader, seen) {
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return seen.text;
    seen.text += typeof value === "string" ? value : decoder.decode(value, { stream: true });
  }
}

/** Starts argv on a PTY, waits for "ready", writes Ctrl-C and returns everything printed and the exit code. */
async function interrupt(sb, argv) {
  console.error(`step: interrupt ${argv.join(" ")}`);
  const p = await sb.exec(argv, { pty: true });
  const out = p.stdout.getReader();
  const seen = { text: "" };
  await readUntil(out, "ready", seen);
  await p.stdin.writeText("\x03");
  await readToEnd(out, seen);
  return { text: seen.text, code: await p.wait() };
}

const scenarios = {
  async "exec"() {
    return withSandbox({}, async (sb) => {
      const isTty = "if test -t 0 && test -t 1 && test -t 2; then echo tty; else echo notty; fi";
      console.error("step: probes");
      const withPty = await sh(sb, isTty, { pty: true });
      const withoutPty = await sh(sb, isTty);
      const size = await run(sb, ["stty", "size"], { pty: true });
      const term = await sh(sb, "echo $TERM", { pty: true });
      const stderr = await sh(sb, "echo to-stderr >&2", { pty: true });
      return { withPty, withoutPty, size, term, stderr };
    });
  },
  async "interrupt"() {
    return withSandbox({}, async (sb) => {
      const trapped = await interrupt(sb, ["sh", "-c", TRAP]);
      const sleeper = await interrupt(sb, ["sh", "-c", "echo ready; exec sleep 1000"]);
      return { trapped, sleeper };
    });
  },
  async "eof"() {
    return withSandbox({}, async (sb) => {
      console.error("step: cat");
      const cat = await sb.exec(["cat"], { pty: true });
      await cat.stdin.writeText("typed line\n");
      await cat.stdin.close();
      const catOut = await cat.stdout.readText();
      return { cat: { stdout: catOut, code: await cat.wait() } };
    });
  },
  async "sandbox"() {
    const sb = await modal.sandboxes.create(await app(), image(), {
      pty: true,
      command: ["sh", "-c", `if test -t 1; then echo tty; fi; stty size; echo TERM=$TERM; ${TRAP}`],
    });
    try {
      const out = sb.stdout.getReader();
      const seen = { text: "" };
      await readUntil(out, "ready", seen);
      console.error(`step: ready seen: ${JSON.stringify(seen.text)}`);
      await sb.stdin.writeText("\x03");
      console.error("step: Ctrl-C written");
      await readToEnd(out, seen);
      return { stdout: seen.text, stderr: await sb.stderr.readText(), code: await sb.wait() };
    } finally {
      await sb.terminate();
    }
  },
};

await main(scenarios);
