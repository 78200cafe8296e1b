/** The gRPC client of TF Serving as the daemon config describes it (address, deadlines, retries, TLS). */
import type { TfServingConfig } from "../daemon-config/types.js";
import { readTlsFiles, TfServingGrpcClient } from "../tfserving/grpc-client.js";

export function tfServingClient(tf: TfServingConfig): TfServingGrpcClient {
  return new TfServingGrpcClient({
    address: tf.grpc_address,
    deadlineMs: tf.call_deadline,
    reloadDeadlineMs: tf.reload_deadline,
    maxReceiveMessageLength: tf.max_receive_message_size,
    attempts: tf.retry.attempts,
    backoff: { initialMs: tf.retry.initial_backoff, maxMs: tf.retry.max_backoff },
    overallDeadlineMs: tf.retry.overall_deadline,
    ...(tf.tls
      ? {
          tls: readTlsFiles({
            ca: tf.tls.ca_file,
            cert: tf.tls.cert_file,
            key: tf.tls.key_file,
            serverNameOverride: tf.tls.server_name_override,
          }),
        }
      : {}),
  });
}
