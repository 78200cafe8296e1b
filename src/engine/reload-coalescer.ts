/**
 * Coalesces HandleReloadConfigRequest across models: a reload requested while another is being sent waits for it
 * and then goes out ONCE for every model that asked meanwhile (single flight with one trailing batch), so a burst
 * of rollouts over many models costs two reloads, not one per model, and a lone rollout waits for nothing.
 *
 * Each batch is sent under the config-wide lock with exactly the bytes the daemon last wrote: the file is re-read
 * and, if someone else changed it since, the batch is not sent and every waiter fails (plan() then treats the
 * change as a hand edit), so the reload never carries bytes the daemon did not check.
 */
import { errorText } from "../gate/summary.js";
import { loadModelServerConfig } from "../modelconfig/load.js";
import type { ModelServerConfigObject } from "../modelconfig/validate.js";
import type { Locks } from "../state/store.js";
import type { ProtoObject, TfServingGrpcClient } from "../tfserving/grpc-client.js";

export interface Written {
  text: string;
  message: ModelServerConfigObject;
}

export class ReloadCoalescer {
  private sending: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private written: Written | undefined;
  /** Reloads actually sent, for logs and tests. */
  sent = 0;

  constructor(
    private readonly modelConfigPath: string,
    private readonly grpc: Pick<TfServingGrpcClient, "reloadConfig">,
    private readonly locks: Pick<Locks, "withConfigLock">,
  ) {}

  /** Called under the config lock right after a write (or when the file already held the step's policy). */
  noteWritten(written: Written): void {
    this.written = written;
  }

  /** Resolves once a reload sent after this call succeeded; rejects with why it was not sent or failed. */
  reload(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const before = this.sending;
    const slot: { batch?: Promise<void> } = {};
    const batch = (async () => {
      await before?.catch(() => undefined);
      this.queued = undefined;
      this.sending = slot.batch;
      try {
        await this.send();
      } finally {
        if (this.sending === slot.batch) this.sending = undefined;
      }
    })();
    slot.batch = batch;
    this.queued = batch;
    return batch;
  }

  private async send(): Promise<void> {
    await this.locks.withConfigLock(async () => {
      const written = this.written;
      const fresh = await loadModelServerConfig(this.modelConfigPath);
      if (written === undefined || fresh.text !== written.text)
        throw new Error(
          "models.config changed after the daemon wrote it; not reloading what it did not check",
        );
      this.sent++;
      try {
        await this.grpc.reloadConfig(written.message as ProtoObject);
      } catch (error) {
        throw new Error(errorText(error));
      }
    });
  }
}
