import type { ConfigFileReader } from "../../src/daemon-config/load.js";

/** An in-memory ConfigFileReader: path → text; reads are recorded. */
export function memoryReader(
  files: Record<string, string> = {},
  cwd = "/srv/work",
): ConfigFileReader & { reads: string[]; files: Record<string, string> } {
  const reader = {
    cwd,
    files,
    reads: [] as string[],
    async read(path: string) {
      reader.reads.push(path);
      return reader.files[path];
    },
  };
  return reader;
}
