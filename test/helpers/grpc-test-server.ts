import * as grpc from "@grpc/grpc-js";
import { tfServingServices } from "../../src/tfserving/grpc-package.js";

type Plain = Record<string, unknown>;

/** What a fake method does with a request: reply with a message, or fail with a status (no body). */
export type FakeResult = Plain | { error: { code: grpc.status; details: string } } | "hang";
export type FakeHandler = (request: Plain) => FakeResult | Promise<FakeResult>;

export type FakeMethod =
  | "GetModelStatus"
  | "HandleReloadConfigRequest"
  | "Predict"
  | "GetModelMetadata"
  | "Classify"
  | "Regress"
  | "MultiInference";

export interface GrpcTestServer {
  address: string;
  port: number;
  /** Every request received, in order, by method. */
  requests: Array<{ method: FakeMethod; request: Plain }>;
  /** Replace or add handlers while running. */
  handlers: Partial<Record<FakeMethod, FakeHandler>>;
  /** Resolves once a request for `method` has arrived (at least `count` of them). */
  received(method: FakeMethod, count?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * An in-process TF Serving stand-in speaking the real ModelService and PredictionService on 127.0.0.1, port 0.
 * Messages are canonical plain objects (the same proto-loader options as the client). Unhandled methods answer
 * UNIMPLEMENTED, like TF Serving for what it does not offer.
 */
export async function startGrpcTestServer(
  handlers: Partial<Record<FakeMethod, FakeHandler>> = {},
  options: { credentials?: grpc.ServerCredentials; port?: number } = {},
): Promise<GrpcTestServer> {
  const server = new grpc.Server();
  const services = tfServingServices();
  const requests: GrpcTestServer["requests"] = [];
  const waiters: Array<{ method: FakeMethod; count: number; resolve: () => void }> = [];
  const state: GrpcTestServer = {
    address: "",
    port: 0,
    requests,
    handlers: { ...handlers },
    received(method, count = 1) {
      return new Promise((resolve) => {
        waiters.push({ method, count, resolve });
        notify();
      });
    },
    async close() {
      server.forceShutdown(); // also cancels calls left hanging
    },
  };

  function notify(): void {
    for (const waiter of [...waiters]) {
      if (requests.filter((r) => r.method === waiter.method).length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  function implement(method: FakeMethod): grpc.handleUnaryCall<Plain, Plain> {
    return async (call, callback) => {
      requests.push({ method, request: call.request });
      notify();
      const handler = state.handlers[method];
      if (!handler) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: `fake: ${method} not implemented` });
        return;
      }
      let result: FakeResult;
      try {
        result = await handler(call.request);
      } catch (error) {
        callback({ code: grpc.status.INTERNAL, details: `fake handler threw: ${String(error)}` });
        return;
      }
      if (result === "hang") return;
      if ("error" in result && typeof result.error === "object" && result.error !== null)
        callback(result.error as grpc.ServiceError);
      else callback(null, result);
    };
  }

  server.addService(services.ModelService.service, {
    GetModelStatus: implement("GetModelStatus"),
    HandleReloadConfigRequest: implement("HandleReloadConfigRequest"),
  });
  server.addService(services.PredictionService.service, {
    Predict: implement("Predict"),
    GetModelMetadata: implement("GetModelMetadata"),
    Classify: implement("Classify"),
    Regress: implement("Regress"),
    MultiInference: implement("MultiInference"),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `127.0.0.1:${options.port ?? 0}`,
      options.credentials ?? grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  state.port = port;
  state.address = `127.0.0.1:${port}`;
  return state;
}
