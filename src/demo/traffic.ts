/**
 * Client traffic through the whole demo: Predict by the label `stable`, one request after another, checking every
 * answer is half_plus_two's. Counts requests, failures (errors and wrong answers) and which version answered.
 */
import { decodeTensor, type TensorProtoObject } from "../tensor/codec.js";
import type { TfServingGrpcClient } from "../tfserving/grpc-client.js";
import { halfPlusTwo } from "./model.js";

export interface TrafficReport {
  requests: number;
  failures: number;
  /** Requests answered per version number. */
  byVersion: Record<string, number>;
  firstFailure?: string;
}

const XS = [1, 2, 5];

export class StableTraffic {
  private readonly report: TrafficReport = { requests: 0, failures: 0, byVersion: {} };
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly client: TfServingGrpcClient,
    private readonly model: string,
    private readonly gapMs = 25,
  ) {
    this.loop = this.run();
  }

  /** Stops after the request in flight and returns the counts. */
  async stop(): Promise<TrafficReport> {
    this.running = false;
    await this.loop;
    return this.report;
  }

  snapshot(): TrafficReport {
    return { ...this.report, byVersion: { ...this.report.byVersion } };
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.report.requests++;
      try {
        const version = await this.once();
        this.report.byVersion[version] = (this.report.byVersion[version] ?? 0) + 1;
      } catch (error) {
        this.report.failures++;
        this.report.firstFailure ??= (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, this.gapMs));
    }
  }

  /** One Predict by label; returns the version that answered, throws on an error or a wrong answer. */
  private async once(): Promise<string> {
    const reply = await this.client.predict(
      {
        model_spec: { name: this.model, version_label: "stable" },
        inputs: {
          x: { dtype: "DT_FLOAT", tensor_shape: { dim: [{ size: String(XS.length) }] }, float_val: XS },
        },
      },
      { deadlineMs: 5000 },
    );
    const outputs = reply.outputs as Record<string, TensorProtoObject> | undefined;
    const y = outputs?.y ? decodeTensor(outputs.y, "output y").values : [];
    const expected = XS.map(halfPlusTwo);
    if (y.length !== expected.length || y.some((value, i) => value !== expected[i]))
      throw new Error(`wrong answer: y = [${y.join(", ")}], expected [${expected.join(", ")}]`);
    return String((reply.model_spec as { version?: { value?: unknown } } | undefined)?.version?.value);
  }
}
