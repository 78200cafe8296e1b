/**
 * How many inotify watches this process holds (Linux only), read from /proc/self/fdinfo of its inotify fds.
 * Watches are a per-user kernel budget (fs.inotify.max_user_watches), which is why the watcher keeps them
 * proportional to models + pending directories, never to versions on disk or files in them.
 */
import { readdir, readFile, readlink } from "node:fs/promises";

/** undefined when /proc is not available (not Linux). */
export async function countInotifyWatches(): Promise<number | undefined> {
  let fds: string[];
  try {
    fds = await readdir("/proc/self/fd");
  } catch {
    return undefined;
  }
  let watches = 0;
  for (const fd of fds) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
    if (target !== "anon_inode:inotify") continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, "utf8").catch(() => "");
    watches += info.split("\n").filter((line) => line.startsWith("inotify wd:")).length;
  }
  return watches;
}
