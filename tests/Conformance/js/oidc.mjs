// OIDC identity tokens through Modal's JS SDK: includeOidcIdentityToken puts MODAL_IDENTITY_TOKEN into the sandbox's
// entrypoint and execs; without it there is none. Usage: node oidc.mjs <scenario>  (TEST_APP names the app).
import { modal, image, app, run, readUntil, main } from "./harness.mjs";

const scenarios = {
  async "token"() {
    const a = await app();
    const withToken = await modal.sandboxes.create(a, image(), {
      includeOidcIdentityToken: true,
      command: ["sh", "-c", 'echo "token=$MODAL_IDENTITY_TOKEN"; exec sleep 600'],
    });
    const without = await modal.sandboxes.create(a, image());
    try {
      const entrypoint = await readUntil(withToken.stdout.getReader(), "\n");
      const exec = await run(withToken, ["sh", "-c", 'echo "$MODAL_IDENTITY_TOKEN"']);
      const absent = await run(without, ["sh", "-c", 'echo "[${MODAL_IDENTITY_TOKEN-unset}]"']);
      return {
        sandboxId: withToken.sandboxId,
        appId: a.appId,
        entrypointToken: entrypoint.trim().replace(/^token=/, ""),
        execToken: exec.stdout.trim(),
        withoutFlag: absent.stdout.trim(),
      };
    } finally {
      await withToken.terminate();
      await without.terminate();
    }
  },
};

await main(scenarios);
