// The byte sequence streamed by the throughput benchmark: the decimal numbers 1, 2, 3, … one per line, cut at an
// exact length. Order-sensitive, so a lost, duplicated or reordered chunk changes the bytes. The C# side
// (bench/TypedSandbox.Bench/Measurements/NumberSequence.cs) produces the same bytes.

/** Where the benchmark writes `bytes` bytes of the sequence inside the sandbox (the overlay root, not the memory-backed /tmp). */
export const dataPath = (bytes) => `/bench-data-${bytes}`;

/** A shell command (busybox sh) that writes the first `bytes` bytes of the sequence to dataPath(bytes). */
export const sequenceCommand = (bytes) => `seq 1 ${bytes} | head -c ${bytes} > ${dataPath(bytes)}`;

/** The first `bytes` bytes of the sequence. */
export function expectedSequence(bytes) {
  const buffer = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for (let n = 1; offset < bytes; n++) {
    offset += buffer.write(`${n}\n`, offset, "latin1");
  }
  return buffer;
}
