import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { HEARTBEAT_STALE_MS, MAIN_LOOP_TICK_MS } from "../src/commands/daemon.js";
import { DEFAULTS } from "../src/daemon-config/defaults.js";
import { toolSkip } from "./helpers/fixtures.js";

const run = promisify(execFile);
const UNIT = new URL("../systemd/tfs-rollout.service", import.meta.url);
const SHIPPED_EXEC = "ExecStart=/usr/bin/tfs-rollout daemon --config /etc/tfs-rollout/config.yaml";

/**
 * systemd-analyze verify needs ExecStart's binary to exist, and /usr/bin/tfs-rollout is not installed here, so it
 * checks a temp copy of the unit whose ExecStart points at a temp executable script; nothing else differs.
 */
async function withVerifiableCopy(
  check: (unitPath: string) => Promise<void>,
  edit: (unit: string) => string = (unit) => unit,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tfs-unit-"));
  try {
    const binary = join(dir, "tfs-rollout");
    writeFileSync(binary, "#!/bin/sh\nexit 0\n");
    chmodSync(binary, 0o755);
    const unit = readFileSync(UNIT, "utf8");
    assert.ok(unit.includes(SHIPPED_EXEC), "the unit's ExecStart changed; update this test");
    const unitPath = join(dir, "tfs-rollout.service");
    writeFileSync(unitPath, edit(unit.replace("/usr/bin/tfs-rollout", binary)));
    await check(unitPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

test("the unit asks for what the daemon implements and leaves out MemoryDenyWriteExecute", () => {
  const unit = directives(readFileSync(UNIT, "utf8"));
  const one = (key: string) => unit.get(key)?.join("|");
  assert.equal(one("Type"), "notify");
  assert.equal(one("NotifyAccess"), "all");
  assert.equal(one("ExecReload"), "/bin/kill -HUP $MAINPID");
  assert.equal(one("StateDirectory"), "tfs-rollout");
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("NoNewPrivileges"), "yes");
  assert.equal(one("CapabilityBoundingSet"), "");
  assert.equal(one("RestrictAddressFamilies"), "AF_UNIX AF_INET AF_INET6");
  assert.equal(unit.get("SystemCallFilter")?.[0], "@system-service");
  assert.equal(unit.get("ReadWritePaths")?.length, 2);
  assert.ok(one("WatchdogSec") && one("TimeoutStopSec"));
  assert.equal(unit.has("MemoryDenyWriteExecute"), false);
  assert.equal(unit.has("DynamicUser"), false);
});

test("systemd-analyze verify prints nothing", { skip: toolSkip("systemd-analyze", "systemd") }, async () => {
  await withVerifiableCopy(async (unitPath) => {
    // It exits 0 on warnings too, so any output at all is a failure.
    const { stdout, stderr } = await run("systemd-analyze", ["verify", unitPath]);
    assert.equal(stdout + stderr, "");
  });
});

test(
  "systemd-analyze security scores 2.5 or better",
  { skip: toolSkip("systemd-analyze", "systemd") },
  async () => {
    await withVerifiableCopy(async (unitPath) => {
      const { stdout } = await run("systemd-analyze", ["security", "--offline=yes", "--no-pager", unitPath]);
      const match = /Overall exposure level for \S+: (\d+\.\d+)/.exec(stdout);
      assert.ok(match, `no score in:\n${stdout}`);
      const score = Number(match[1]);
      assert.ok(score <= 2.5, `exposure ${score} > 2.5:\n${stdout}`);
    });
  },
);

test(
  "systemd-analyze verify exits 0 on a misspelt key but prints it (why any output fails)",
  { skip: toolSkip("systemd-analyze", "systemd") },
  async () => {
    await withVerifiableCopy(
      async (unitPath) => {
        const { stdout, stderr } = await run("systemd-analyze", ["verify", unitPath]);
        assert.match(stdout + stderr, /Unknown key 'ProtectSytem'/);
      },
      (unit) => unit.replace("[Service]\n", "[Service]\nProtectSytem=full\n"),
    );
  },
);

test(
  "the TF Serving drop-in passes the flags the daemon needs and verifies cleanly on a stand-in unit",
  { skip: toolSkip("systemd-analyze", "systemd") },
  async () => {
    const dropIn = readFileSync(
      new URL("../systemd/tensorflow-serving.service.d/tfs-rollout.conf", import.meta.url),
      "utf8",
    );
    const execStart = directives(dropIn).get("ExecStart")!;
    assert.equal(execStart[0], "", "ExecStart= is reset before it is replaced");
    assert.match(execStart[1]!, /^\/usr\/bin\/tensorflow_model_server /);
    assert.match(execStart[1]!, / --model_config_file=\/etc\/tensorflow-serving\/models\.config( |$)/);
    assert.match(execStart[1]!, / --allow_version_labels_for_unavailable_models=true( |$)/);
    assert.doesNotMatch(execStart[1]!, /poll_wait_seconds/);
    // A stand-in TF Serving unit and binary in a temp dir, found through SYSTEMD_UNIT_PATH with the drop-in.
    const dir = mkdtempSync(join(tmpdir(), "tfs-dropin-"));
    try {
      const binary = join(dir, "tensorflow_model_server");
      writeFileSync(binary, "#!/bin/sh\nexit 0\n");
      chmodSync(binary, 0o755);
      const unitPath = join(dir, "tensorflow-serving.service");
      writeFileSync(unitPath, `[Unit]\nDescription=stand-in\n[Service]\nExecStart=${binary}\n`);
      mkdirSync(join(dir, "tensorflow-serving.service.d"));
      writeFileSync(
        join(dir, "tensorflow-serving.service.d", "tfs-rollout.conf"),
        dropIn.replace("/usr/bin/tensorflow_model_server", binary),
      );
      const env = { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` };
      const { stdout, stderr } = await run("systemd-analyze", ["verify", unitPath], { env });
      assert.equal(stdout + stderr, "");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("the unit's watchdog and start timeout fit what the daemon does", () => {
  const unit = directives(readFileSync(UNIT, "utf8"));
  const seconds = (key: string) => Number(unit.get(key)?.[0]);
  // The daemon pets every WatchdogSec/2 while its main loop beats; a loop silent for HEARTBEAT_STALE_MS stops the
  // pets, so systemd restarts it at most WatchdogSec later. The watchdog must outlast a few main loop ticks.
  assert.ok(seconds("WatchdogSec") * 1000 >= 4 * MAIN_LOOP_TICK_MS);
  assert.ok(seconds("WatchdogSec") * 1000 > HEARTBEAT_STALE_MS);
  // READY=1 waits for the first TF Serving call to end (answered or not): at most the call deadline.
  assert.ok(seconds("TimeoutStartSec") * 1000 > DEFAULTS.tf_serving.call_deadline);
  // SIGTERM: the current step finishes (probes are interrupted and re-planned at the next start), then the webhook
  // queues get up to 3 s; TimeoutStopSec leaves room for both.
  assert.ok(seconds("TimeoutStopSec") > 3);
});
