// Outbound domain allow-lists: outboundDomainAllowlist lets TLS (by its SNI) and plain HTTP (by its Host header) reach
// only the listed names (exact, or "*.example.com" for the name and everything below it); the engine's egress proxy
// answers other names with 403 (HTTP) or closes the connection (TLS), and raw addresses name nothing, so they are refused.
import { modal, app, sh } from "./common.mjs";

// The probes below use Python; any image with python3 works.
const pythonImage = () => modal.images.fromRegistry(process.env.IMAGE ?? "python:3.13-slim");

const sb = await modal.sandboxes.create(await app(), pythonImage(), { outboundDomainAllowlist: ["*.example.com"] });

// Both requests go to a documentation address (192.0.2.1); the proxy decides by the name before anything leaves.
const probe = `
import socket, ssl, sys
kind, name = sys.argv[1], sys.argv[2]
s = socket.create_connection(("192.0.2.1", 443 if kind == "tls" else 80), timeout=10)
try:
    if kind == "tls":
        ssl.create_default_context().wrap_socket(s, server_hostname=name)
    else:
        s.sendall(f"GET / HTTP/1.0\\r\\nHost: {name}\\r\\n\\r\\n".encode())
        print(s.recv(100).decode().split("\\r\\n")[0])
except (OSError, ssl.SSLError) as e:
    print("connection closed:", type(e).__name__)
`;
console.log("HTTP to an unlisted name:", (await sh(sb, `python3 -c '${probe}' http www.unlisted.org`)).trim());
console.log("TLS to an unlisted name:", (await sh(sb, `python3 -c '${probe}' tls www.unlisted.org`)).trim());
await sb.terminate();

const bad = await modal.sandboxes.create(await app(), pythonImage(), { outboundDomainAllowlist: ["not a name"] }).catch((e) => e);
console.log("a malformed entry:", bad.message.includes("is not a domain name") ? "refused, not a domain name" : bad.message);
