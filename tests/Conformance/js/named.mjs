// Named sandboxes through Modal's JS SDK. Usage: node named.mjs <scenario>  (TEST_APP names the app).
import { modal, image, app, capture, run, main } from "./harness.mjs";

const appName = process.env.TEST_APP ?? "features";

const scenarios = {
  async "names"() {
    const a = await app();
    const other = await modal.apps.fromName(appName + "-other", { createIfMissing: true });
    const first = await modal.sandboxes.create(a, image(), { name: "worker-1" });
    const duplicate = await capture(() => modal.sandboxes.create(a, image(), { name: "worker-1" }).then((sb) => sb.terminate()));
    const otherApp = await modal.sandboxes.create(other, image(), { name: "worker-1" });
    const found = await modal.sandboxes.fromName(appName, "worker-1");
    const foundExec = await run(found, ["echo", "via-name"]);
    await first.terminate();
    await first.wait();
    const afterStop = await capture(() => modal.sandboxes.fromName(appName, "worker-1").then((sb) => sb.sandboxId));
    const otherStillThere = (await modal.sandboxes.fromName(appName + "-other", "worker-1")).sandboxId;
    // The name is free again.
    const reused = await modal.sandboxes.create(a, image(), { name: "worker-1" });
    const foundReused = (await modal.sandboxes.fromName(appName, "worker-1")).sandboxId;
    await reused.terminate();
    await otherApp.terminate();
    const unknownApp = await capture(() => modal.sandboxes.fromName("no-such-app-here", "worker-1"));
    return {
      firstId: first.sandboxId, duplicate, otherAppId: otherApp.sandboxId, foundId: found.sandboxId, foundExec,
      afterStop, otherStillThere, reusedId: reused.sandboxId, foundReused, unknownApp,
    };
  },
  async "entrypoint-frees-name"() {
    // A sandbox whose entrypoint exits gives its name back.
    const a = await app();
    const sb = await modal.sandboxes.create(a, image(), { name: "short-lived", command: ["sh", "-c", "exit 0"] });
    await sb.wait();
    const lookup = await capture(() => modal.sandboxes.fromName(appName, "short-lived"));
    const again = await modal.sandboxes.create(a, image(), { name: "short-lived", command: ["sh", "-c", "exit 0"] });
    await again.wait();
    return { lookup, againId: again.sandboxId, firstId: sb.sandboxId };
  },
  async "bad-names"() {
    const a = await app();
    const tryName = (name) => capture(() => modal.sandboxes.create(a, image(), { name }).then((sb) => sb.terminate()));
    return {
      space: await tryName("has space"),
      slash: await tryName("a/b"),
      tooLong: await tryName("x".repeat(64)),
      longest: await tryName("y".repeat(63)),
      // The SDK checks names itself; the engine checks them too for clients that do not (a raw request).
      raw: await capture(async () =>
        modal.cpClient.sandboxCreate({ appId: a.appId, definition: { imageId: (await image().build(a)).imageId, name: "has space" } })),
    };
  },
};

await main(scenarios);
