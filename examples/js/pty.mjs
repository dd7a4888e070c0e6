// PTY: `pty: true` runs a command on a pseudo-terminal in the sandbox, as a shell would. Programs see a terminal
// (colours, prompts, line editing), all output arrives on stdout with "\r\n" line ends, and writing "\x03" (Ctrl-C) to
// stdin interrupts the program.
import { modal, baseImage, app } from "./common.mjs";

const sb = await modal.sandboxes.create(await app(), baseImage());
try {
  const probe = await sb.exec(["sh", "-c", 'test -t 1 && echo "on a terminal"; echo "window: $(stty size)"; echo "TERM=$TERM"'], { pty: true });
  process.stdout.write((await probe.stdout.readText()).replaceAll("\r\n", "\n"));

  const p = await sb.exec(["sh", "-c", "trap 'echo caught Ctrl-C; exit 3' INT; echo waiting; while true; do sleep 1; done"], { pty: true });
  const reader = p.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const readUntil = async (marker) => {
    while (!seen.includes(marker)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += typeof value === "string" ? value : decoder.decode(value, { stream: true });
    }
  };
  await readUntil("waiting");
  await p.stdin.writeText("\x03"); // Ctrl-C
  await readUntil("caught");
  console.log("after Ctrl-C:", seen.includes("caught Ctrl-C") ? "caught Ctrl-C" : seen);
  console.log("exit code:", await p.wait());
} finally {
  await sb.terminate();
}
