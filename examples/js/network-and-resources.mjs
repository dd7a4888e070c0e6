// Resources and network policy: cpu/memoryMiB become cgroup limits; blockNetwork leaves only loopback;
// outboundCidrAllowlist lets traffic out to the listed ranges only.
import { modal, baseImage, app, sh } from "./common.mjs";

const a = await app();
const limited = await modal.sandboxes.create(a, baseImage(), { cpu: 0.5, memoryMiB: 256 });
console.log("memory limit (bytes):", (await sh(limited, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")).trim());
await limited.terminate();

const blocked = await modal.sandboxes.create(a, baseImage(), { blockNetwork: true });
console.log("interfaces with the network blocked:", (await sh(blocked, "ls /sys/class/net")).trim().split("\n"));
await blocked.terminate();

const allow = await modal.sandboxes.create(a, baseImage(), { outboundCidrAllowlist: ["10.0.0.0/8"] });
console.log("allow-listed sandbox created:", allow.sandboxId);
await allow.terminate();
