// A full listing of a directory tree (lstat, symlinks not followed, every file hashed): taken before and after a
// scenario, it shows every path the daemon created, changed or removed.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative, sep } from "node:path";

export interface TreeEntry {
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  uid: number;
  /** sha256 of a file's bytes, a symlink's target; empty for directories. */
  content: string;
}

/** Relative path (with `/`) → entry, for everything under `root` (root itself excluded). */
export type Tree = Map<string, TreeEntry>;

export function snapshotTree(root: string): Tree {
  const tree: Tree = new Map();
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // vanished or unreadable while listing: whatever is there is compared by its parent's entry
    }
    for (const name of names) {
      const path = join(dir, name);
      const key = relative(root, path).split(sep).join("/");
      let stats;
      try {
        stats = lstatSync(path);
      } catch {
        continue;
      }
      const common = { mode: stats.mode & 0o7777, uid: stats.uid };
      if (stats.isSymbolicLink()) tree.set(key, { type: "symlink", ...common, content: readlinkSync(path) });
      else if (stats.isDirectory()) {
        tree.set(key, { type: "dir", ...common, content: "" });
        walk(path);
      } else if (stats.isFile()) {
        let content = "unreadable";
        try {
          content = createHash("sha256").update(readFileSync(path)).digest("hex");
        } catch {
          // kept as "unreadable": a change of readability still shows as a change of mode
        }
        tree.set(key, { type: "file", ...common, content });
      } else tree.set(key, { type: "other", ...common, content: "" });
    }
  };
  walk(root);
  return tree;
}

export interface TreeChange {
  path: string;
  change: "created" | "removed" | "changed";
}

export function diffTrees(before: Tree, after: Tree): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const [path, entry] of before) {
    const now = after.get(path);
    if (now === undefined) changes.push({ path, change: "removed" });
    else if (now.type !== entry.type || now.content !== entry.content || now.mode !== entry.mode)
      changes.push({ path, change: "changed" });
  }
  for (const path of after.keys()) if (!before.has(path)) changes.push({ path, change: "created" });
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}
