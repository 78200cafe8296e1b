/**
 * Who a process is, well enough to tell whether the owner of a lock file is still running on this host: its pid,
 * the host name, the kernel's boot id and the process's start time (Linux /proc; absent elsewhere). A pid that is
 * alive but started at another time, or a lock written before the last reboot, belongs to a process that is gone.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface ProcessIdentity {
  pid: number;
  hostname: string;
  /** /proc/sys/kernel/random/boot_id, when readable. */
  bootId?: string;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), when readable. */
  startTicks?: string;
}

export function currentIdentity(): ProcessIdentity {
  const identity: ProcessIdentity = { pid: process.pid, hostname: hostname() };
  const bootId = readBootId();
  if (bootId !== undefined) identity.bootId = bootId;
  const startTicks = readStartTicks(process.pid);
  if (startTicks !== undefined) identity.startTicks = startTicks;
  return identity;
}

export type Liveness = { alive: true } | { alive: false; why: string } | { alive: "unknown"; why: string };

/** Whether the process named by `owner` still runs, judged from this host. Errs on the side of "alive". */
export function liveness(owner: ProcessIdentity, here: ProcessIdentity = currentIdentity()): Liveness {
  if (owner.hostname !== here.hostname)
    return { alive: "unknown", why: `it runs on another host (${owner.hostname})` };
  if (owner.bootId !== undefined && here.bootId !== undefined && owner.bootId !== here.bootId)
    return { alive: false, why: "the host has rebooted since it was taken" };
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return { alive: false, why: `pid ${owner.pid} is not running` };
    // EPERM: it exists but belongs to another user.
  }
  if (owner.startTicks !== undefined) {
    const now = readStartTicks(owner.pid);
    if (now !== undefined && now !== owner.startTicks)
      return { alive: false, why: `pid ${owner.pid} now belongs to another process` };
  }
  return { alive: true };
}

let bootTime: number | null | undefined;

/** When the host booted (epoch ms, from /proc/stat `btime`), or undefined off Linux. */
export function bootTimeMs(): number | undefined {
  if (bootTime === undefined) {
    try {
      const line = readFileSync("/proc/stat", "utf8").match(/^btime (\d+)$/m);
      bootTime = line ? Number(line[1]) * 1000 : null;
    } catch {
      bootTime = null;
    }
  }
  return bootTime ?? undefined;
}

function readBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

function readStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count fields after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}
