// Secrets and environment variables through Modal's JS SDK. Usage: node secrets.mjs <scenario>
// SECRET_NAME names a secret the test created through the engine; SECRET_VALUE is a value that must never be logged.
import { modal, image, app, capture, run, withSandbox, main } from "./harness.mjs";

const envOf = (sb, names, params) =>
  run(sb, ["sh", "-c", names.map((n) => `echo ${n}=\${${n}-unset}`).join("; ")], params).then((r) => r.stdout);

const scenarios = {
  async "env-and-secrets"() {
    const fromObject = await modal.secrets.fromObject({ API_KEY: process.env.SECRET_VALUE, SHARED: "from-object" });
    const named = await modal.secrets.fromName(process.env.SECRET_NAME, { requiredKeys: ["DB_PASSWORD"] });
    return withSandbox({ env: { PLAIN: "on-create", SHARED: "from-env" }, secrets: [fromObject, named] }, async (sb) => {
      const created = await envOf(sb, ["PLAIN", "API_KEY", "DB_PASSWORD", "SHARED", "EXEC_ONLY"]);
      const execSecret = await modal.secrets.fromObject({ EXEC_SECRET: "exec-secret" });
      const onExec = await envOf(sb, ["PLAIN", "EXEC_ONLY", "EXEC_SECRET"], { env: { EXEC_ONLY: "on-exec", PLAIN: "overridden" }, secrets: [execSecret] });
      const later = await envOf(sb, ["EXEC_ONLY", "EXEC_SECRET"]);
      return { created, onExec, later };
    });
  },
  async "bad-secrets"() {
    const missingName = await capture(() => modal.secrets.fromName("no-such-secret-anywhere"));
    const missingKey = await capture(() => modal.secrets.fromName(process.env.SECRET_NAME, { requiredKeys: ["NOT_THERE"] }));
    const badEnvKey = await capture(() => withSandbox({ env: { "1BAD": "x" } }, () => 0));
    const badSecretKey = await capture(async () => withSandbox({ secrets: [await modal.secrets.fromObject({ "BAD-KEY": "x" })] }, () => 0));
    const badExecKey = await withSandbox({}, (sb) => capture(() => run(sb, ["true"], { env: { "A B": "x" } })));
    const badExecSecret = await withSandbox({}, (sb) =>
      capture(async () => run(sb, ["true"], { secrets: [await modal.secrets.fromObject({ "=x": "y" })] })));
    return { missingName, missingKey, badEnvKey, badSecretKey, badExecKey, badExecSecret };
  },
  async "engine-checks"() {
    // The SDK checks keys and workdirs itself; other clients may not, so the engine checks them too (raw requests).
    const a = await app();
    const img = await image().build(a);
    const rawCreate = (definition) =>
      capture(() => modal.cpClient.sandboxCreate({ appId: a.appId, definition: { imageId: img.imageId, ...definition } }));
    return {
      secretKey: await capture(() => modal.cpClient.secretGetOrCreate({ objectCreationType: 5, envDict: { "1BAD": process.env.SECRET_VALUE } })),
      envKey: await rawCreate({ environmentVariables: { contents: { "BAD-KEY": process.env.SECRET_VALUE } } }),
      workdir: await rawCreate({ workdir: "relative/dir" }),
    };
  },
  async "workdir"() {
    return withSandbox({ workdir: "/tmp" }, async (sb) => {
      const onCreate = (await run(sb, ["pwd"])).stdout;
      const onExec = (await run(sb, ["pwd"], { workdir: "/etc" })).stdout;
      const created = await run(sb, ["sh", "-c", "mkdir -p /srv/made && cd /srv/made && pwd"]);
      const relativeFile = (await run(sb, ["sh", "-c", "echo hi > here.txt && cat /tmp/here.txt"])).stdout;
      const badExec = await capture(() => run(sb, ["pwd"], { workdir: "relative/dir" }));
      const missing = await capture(() => run(sb, ["pwd"], { workdir: "/does/not/exist" }));
      return { onCreate, onExec, created: created.stdout, relativeFile, badExec, missing };
    });
  },
  async "workdir-bad-create"() {
    return capture(() => withSandbox({ workdir: "not/absolute" }, () => 0));
  },
  async "workdir-created"() {
    // A workdir that does not exist in the image yet: the sandbox starts there anyway (as Modal does).
    return withSandbox({ workdir: "/opt/made/here" }, async (sb) => (await run(sb, ["pwd"])).stdout);
  },
};

await main(scenarios);
