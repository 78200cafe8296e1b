// TF Serving's AspiredVersionsManager + AvailabilityPreservingPolicy + ServableStateMonitor (facts §3, §4):
// one manager loop takes one action (a load or an unload) per run. With the binary's default num_load_threads=0 the
// load runs in the loop itself, so one servable loads at a time. With --num_load_threads=N (BasicManager's load
// thread pool) the loop only hands the load to one of N workers (queued while all are busy) and its next run comes
// one tick after this one began (TF's PeriodicFunction): at most one load STARTS per tick, N run at once.
// Unloads always run in the loop (num_unload_threads has no emulator flag; TF's default 0 does the same).
import { EventEmitter } from "node:events";
import { ServingError, type ModelVersionStatusPlain } from "./serving-api.js";
import type { DesiredVersions } from "./version-source.js";
import type { LoadedVersion } from "./version-loader.js";

export type VersionState = ModelVersionStatusPlain["state"];

export interface StateEvent {
  model: string;
  version: string;
  state: VersionState;
  error?: ServingError;
}

interface Entry {
  version: string;
  dir: string;
  state: VersionState;
  aspired: boolean;
  loaded?: LoadedVersion;
  /** Handed to the load thread pool (TF's kLoadRequested): still START until a worker takes it. */
  loadRequested?: boolean;
}

export interface ManagerOptions {
  /** Loads one version (one attempt); throws ServingError on failure. */
  load(model: string, version: string, dir: string): Promise<LoadedVersion>;
  maxNumLoadRetries: number;
  loadRetryIntervalMs: number;
  /** Idle period between manager runs (TF: 100 ms). */
  tickMs?: number;
  /** TF's --num_load_threads: 0 (default) loads in the manager loop; N > 0 loads on N workers. */
  numLoadThreads?: number;
  /** The wait between load retries; injected by tests. Resolves after `ms` or when `signal` aborts. */
  retrySleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: { info(message: string): void };
}

const byVersionDesc = (a: string, b: string): number => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x > y ? -1 : x < y ? 1 : 0;
};

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

export class ModelManager {
  private readonly models = new Map<string, Map<string, Entry>>();
  private readonly pending = new Map<string, DesiredVersions>();
  /** The monitor: last state of every version ever seen, never forgotten. */
  private readonly monitor = new Map<string, Map<string, ModelVersionStatusPlain>>();
  private readonly events = new EventEmitter();
  private readonly stopController = new AbortController();
  private wake: AbortController = new AbortController();
  private loop: Promise<void> | undefined;
  private runCount = 0;
  /** The load thread pool (numLoadThreads > 0): loads waiting for a worker, and the loads running. */
  private readonly loadQueue: { model: string; entry: Entry }[] = [];
  private readonly loading = new Set<Promise<void>>();
  private readonly retrySleep: NonNullable<ManagerOptions["retrySleep"]>;

  constructor(private readonly options: ManagerOptions) {
    this.retrySleep = options.retrySleep ?? defaultSleep;
    this.events.setMaxListeners(0);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.wake.abort();
    await this.loop;
    this.loadQueue.length = 0;
    await Promise.all([...this.loading]);
  }

  /** The source's aspired-versions callback: the full desired list of one model (latest request wins). */
  setAspiredVersions(model: string, desired: DesiredVersions): void {
    this.pending.set(model, new Map(desired));
    this.wake.abort();
  }

  /** How many times the manager loop has run (tests wait on it instead of sleeping). */
  get runs(): number {
    return this.runCount;
  }

  onState(listener: (event: StateEvent) => void): () => void {
    this.events.on("state", listener);
    return () => this.events.off("state", listener);
  }

  /** Every version ever seen of `model`, descending; undefined when the model was never seen. */
  status(model: string): ModelVersionStatusPlain[] | undefined {
    const versions = this.monitor.get(model);
    if (!versions) return undefined;
    return [...versions.keys()].sort(byVersionDesc).map((v) => ({ ...versions.get(v)! }));
  }

  stateOf(model: string, version: string): VersionState | undefined {
    return this.monitor.get(model)?.get(version)?.state;
  }

  /** A servable version: AVAILABLE `version`, or the highest AVAILABLE one. */
  servable(model: string, version?: string): LoadedVersion | undefined {
    const entries = [...(this.models.get(model)?.values() ?? [])].filter((e) => e.state === "AVAILABLE");
    if (version !== undefined) return entries.find((e) => e.version === version)?.loaded;
    return entries.sort((a, b) => byVersionDesc(a.version, b.version))[0]?.loaded;
  }

  private publish(model: string, entry: Entry, state: VersionState, error?: ServingError): void {
    entry.state = state;
    let versions = this.monitor.get(model);
    if (!versions) this.monitor.set(model, (versions = new Map()));
    versions.set(entry.version, {
      version: entry.version,
      state,
      status: { error_code: error?.code ?? "OK", error_message: error?.message ?? "" },
    });
    this.events.emit("state", { model, version: entry.version, state, error } satisfies StateEvent);
  }

  private async run(): Promise<void> {
    const stopped = this.stopController.signal;
    const pooled = (this.options.numLoadThreads ?? 0) > 0;
    while (!stopped.aborted) {
      const began = Date.now();
      this.runCount++;
      this.handlePendingRequests();
      this.flush();
      const action = this.nextAction();
      if (action && pooled) {
        if (action.kind === "load") this.requestLoad(action.model, action.entry);
        else await this.unload(action.model, action.entry);
        await defaultSleep(Math.max(0, began + (this.options.tickMs ?? 100) - Date.now()), stopped);
        continue;
      }
      if (action) {
        await (action.kind === "unload"
          ? this.unload(action.model, action.entry)
          : this.load(action.model, action.entry));
        continue;
      }
      this.wake = new AbortController();
      const wake = this.wake.signal;
      const both = AbortSignal.any([wake, stopped]);
      // Parked requests are re-examined every run, as TF's manager thread does every 100 ms.
      await defaultSleep(this.options.tickMs ?? 100, both);
    }
  }

  /**
   * Applies each model's latest aspired-versions request, unless it re-aspires a version the manager still holds
   * but no longer aspires: such a request is parked until that version has fully unloaded (facts §4).
   */
  private handlePendingRequests(): void {
    for (const [model, desired] of [...this.pending]) {
      let entries = this.models.get(model);
      if (!entries) this.models.set(model, (entries = new Map()));
      const reaspires = [...desired.keys()].some((v) => {
        const entry = entries.get(v);
        return entry !== undefined && !entry.aspired;
      });
      if (reaspires) continue;
      this.pending.delete(model);
      for (const entry of entries.values()) entry.aspired = desired.has(entry.version);
      for (const [version, dir] of desired) {
        if (entries.has(version)) continue;
        const entry: Entry = { version, dir, state: "START", aspired: true };
        entries.set(version, entry);
        this.publish(model, entry, "START");
      }
    }
  }

  /** Stops managing versions that are neither aspired nor holding resources (new, ended or failed). */
  private flush(): void {
    for (const entries of this.models.values())
      for (const [version, entry] of [...entries])
        if (!entry.aspired && !entry.loadRequested && (entry.state === "START" || entry.state === "END"))
          entries.delete(version);
  }

  /** AvailabilityPreservingPolicy over every model; unloads first, then the highest new aspired version. */
  private nextAction(): { kind: "load" | "unload"; model: string; entry: Entry } | undefined {
    let load: { kind: "load"; model: string; entry: Entry } | undefined;
    for (const [model, entries] of this.models) {
      const all = [...entries.values()];
      const hasAspired = all.some((e) => e.aspired);
      const aspiredServing = all.some((e) => e.aspired && e.state === "AVAILABLE");
      const unaspiredServing = all
        .filter((e) => !e.aspired && e.state === "AVAILABLE")
        .sort((a, b) => byVersionDesc(b.version, a.version));
      if (unaspiredServing.length > 0 && (!hasAspired || aspiredServing || unaspiredServing.length > 1))
        return { kind: "unload", model, entry: unaspiredServing[0]! };
      const fresh = all
        .filter((e) => e.aspired && e.state === "START" && !e.loadRequested)
        .sort((a, b) => byVersionDesc(a.version, b.version))[0];
      if (fresh && !load) load = { kind: "load", model, entry: fresh };
    }
    return load;
  }

  /** Hands a load to the pool: it starts at once on a free worker, else when one frees up (first come first). */
  private requestLoad(model: string, entry: Entry): void {
    entry.loadRequested = true;
    this.loadQueue.push({ model, entry });
    this.startQueuedLoads();
  }

  private startQueuedLoads(): void {
    while (this.loading.size < (this.options.numLoadThreads ?? 0) && this.loadQueue.length > 0) {
      const { model, entry } = this.loadQueue.shift()!;
      const running: Promise<void> = this.load(model, entry).finally(() => {
        entry.loadRequested = false;
        this.loading.delete(running);
        if (!this.stopController.signal.aborted) this.startQueuedLoads();
      });
      this.loading.add(running);
    }
  }

  private async load(model: string, entry: Entry): Promise<void> {
    this.publish(model, entry, "LOADING");
    const attempts = 1 + this.options.maxNumLoadRetries;
    let lastError: ServingError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        entry.loaded = await this.options.load(model, entry.version, entry.dir);
        this.publish(model, entry, "AVAILABLE");
        return;
      } catch (error) {
        lastError =
          error instanceof ServingError ? error : new ServingError("INTERNAL", (error as Error).message);
        this.options.log?.info(
          `Loading servable: {name: ${model} version: ${entry.version}} failed: ${lastError.code}: ${lastError.message}`,
        );
      }
      // TF cancels retries of a version no longer aspired, but with num_load_threads=0 the un-aspire request is
      // only processed by this same loop, i.e. after the load: so in practice every retry runs. On a load worker
      // the loop runs meanwhile, and an un-aspire before this check ends the retries.
      if (attempt === attempts || !entry.aspired || this.stopController.signal.aborted) break;
      this.options.log?.info(`Retrying load on servable version: {name: ${model} version: ${entry.version}}`);
      await this.retrySleep(this.options.loadRetryIntervalMs, this.stopController.signal);
    }
    this.publish(model, entry, "END", lastError);
  }

  private async unload(model: string, entry: Entry): Promise<void> {
    this.publish(model, entry, "UNLOADING");
    await Promise.resolve();
    entry.loaded = undefined;
    this.publish(model, entry, "END");
  }
}
