// Tags and listing through Modal's JS SDK. Usage: node tags.mjs <scenario>  (TEST_APP names the app; COUNT says how
// many sandboxes "paging" creates — more than one page of the engine's listing).
import { modal, image, app, capture, main } from "./harness.mjs";

async function listIds(params) {
  const ids = [];
  for await (const sb of modal.sandboxes.list(params)) ids.push(sb.sandboxId);
  return ids;
}

const scenarios = {
  async "tags"() {
    const a = await app();
    const one = await modal.sandboxes.create(a, image(), { tags: { team: "red", env: "dev" } });
    const two = await modal.sandboxes.create(a, image(), { tags: { team: "red", env: "prod" } });
    const three = await modal.sandboxes.create(a, image());
    try {
      await three.setTags({ team: "blue", env: "dev" });
      const tagsOfThree = await three.getTags();
      const tagsOfOne = await (await modal.sandboxes.fromId(one.sandboxId)).getTags();
      await two.setTags({ team: "red", env: "prod", tier: "gold" });
      return {
        ids: [one.sandboxId, two.sandboxId, three.sandboxId],
        tagsOfThree,
        tagsOfOne,
        tagsOfTwo: await two.getTags(),
        all: await listIds({ appId: a.appId }),
        red: await listIds({ appId: a.appId, tags: { team: "red" } }),
        redProd: await listIds({ appId: a.appId, tags: { team: "red", env: "prod" } }),
        dev: await listIds({ appId: a.appId, tags: { env: "dev" } }),
        none: await listIds({ appId: a.appId, tags: { team: "green" } }),
        badSet: await capture(() => one.setTags({ "bad key": "x" })),
        badCreate: await capture(() => modal.sandboxes.create(a, image(), { tags: { ["k".repeat(100)]: "v" } }).then((sb) => sb.terminate())),
        badList: await capture(() => listIds({ appId: a.appId, tags: { "": "x" } })),
        afterTerminate: await (async () => {
          await one.terminate();
          await one.wait();
          return listIds({ appId: a.appId, tags: { team: "red" } });
        })(),
      };
    } finally {
      await Promise.all([one.terminate(), two.terminate(), three.terminate()]);
    }
  },
  async "paging"() {
    const a = await app();
    const count = Number(process.env.COUNT ?? "7");
    const created = [];
    try {
      for (let i = 0; i < count; i++) {
        created.push(await modal.sandboxes.create(a, image(), { tags: { batch: "paging", index: String(i) } }));
      }
      return {
        created: created.map((sb) => sb.sandboxId),
        listed: await listIds({ appId: a.appId, tags: { batch: "paging" } }),
        odd: await listIds({ appId: a.appId, tags: { batch: "paging", index: "3" } }),
      };
    } finally {
      await Promise.all(created.map((sb) => sb.terminate()));
    }
  },
};

await main(scenarios);
