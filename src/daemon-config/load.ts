import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { DEFAULT_CONFIG_FILE } from "./defaults.js";
import { type DaemonConfigFlags, FLAG_KEYS } from "./flags.js";
import { describeIssues, sortByPosition } from "./issues.js";
import { normalizeDaemonConfig } from "./normalize.js";
import { DaemonConfigError, formatPath, showValue } from "./problems.js";
import { checkRules } from "./rules.js";
import { daemonConfigFileSchema } from "./schema.js";
import type { DaemonConfig } from "./types.js";
import { parseYamlSource, type YamlSource } from "./yaml-source.js";

/**
 * Loading the daemon config: command-line flags > YAML file > defaults, validated with one schema and a few
 * cross-key rules, every problem reported at once with its key path, FILE:LINE:COL (or flag) and a fix.
 *
 * How the daemon and the operator commands use it: each command calls `addDaemonConfigOptions(command)`, then in
 * its action `loadDaemonConfig(daemonConfigFlags(command.opts()), io.env, nodeConfigFileReader(io.cwd))`; a bad
 * config throws DaemonConfigError (a UsageError: exit 2). On SIGHUP the daemon calls
 * `reloadDaemonConfig(current, sameFlags, env, reader)` and keeps running on `result.config` either way, logging
 * `result.changed` or `result.error`. Model-level code reads `configForModel(config, name)`.
 */

/** File access for the loader, injected so tests need no real /etc. */
export interface ConfigFileReader {
  /** Base of relative --config, --model-config-file and --state-dir. */
  cwd: string;
  /** The file's text, or undefined when it does not exist; other failures throw. */
  read(path: string): Promise<string | undefined>;
}

export function nodeConfigFileReader(cwd: string = process.cwd()): ConfigFileReader {
  return {
    cwd,
    async read(path) {
      try {
        return await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },
  };
}

export async function loadDaemonConfig(
  flags: DaemonConfigFlags,
  env: NodeJS.ProcessEnv,
  reader: ConfigFileReader,
): Promise<DaemonConfig> {
  const source = await readSource(flags, reader);
  const raw = structuredClone(source?.value ?? {}) as Record<string, unknown>;
  if (!isPlainObject(raw))
    throw new DaemonConfigError([
      {
        where: source?.locate([]),
        message: `the config file must be a map of keys, not ${showValue(raw)}`,
        hint: "start from config/tfs-rollout.example.yaml",
      },
    ]);
  const flagOf = overlayFlags(raw, flags, reader.cwd);
  const whereOf = (path: readonly PropertyKey[], key = false): string | undefined => {
    for (let length = path.length; length > 0; length--) {
      const flag = flagOf.get(formatPath(path.slice(0, length)));
      if (flag) return flag;
    }
    return source?.locate(path, { key });
  };
  const parsed = daemonConfigFileSchema.safeParse(raw);
  if (!parsed.success) throw new DaemonConfigError(describeIssues(parsed.error.issues, raw, whereOf));
  const config = normalizeDaemonConfig(parsed.data, {
    baseDir: source ? dirname(source.file) : reader.cwd,
    env,
    once: flags.once === true,
    configFile: source?.file ?? null,
  });
  const broken = checkRules(config, { modelsFromFile: !flagOf.has("models") });
  if (broken.length > 0)
    throw new DaemonConfigError(
      sortByPosition(
        broken.map((problem) => ({
          path: formatPath(problem.path),
          where: whereOf(problem.path, problem.path[0] === "models_overrides" && problem.path.length === 2),
          message: problem.message,
          hint: problem.hint,
        })),
      ),
    );
  return config;
}

async function readSource(
  flags: DaemonConfigFlags,
  reader: ConfigFileReader,
): Promise<YamlSource | undefined> {
  const explicit = flags.config !== undefined;
  const file = explicit ? resolve(reader.cwd, flags.config!) : DEFAULT_CONFIG_FILE;
  let text: string | undefined;
  try {
    text = await reader.read(file);
  } catch (error) {
    throw new UsageError(`cannot read the daemon config file: ${(error as Error).message}`, {
      where: file,
      hint: "make the file readable by the daemon's user, or pass --config with another file",
      cause: error,
    });
  }
  if (text === undefined) {
    if (!explicit) return undefined;
    throw new UsageError("the daemon config file does not exist", {
      where: file,
      hint: "check the --config path, or leave --config out to run on flags and defaults",
    });
  }
  const parsed = parseYamlSource(file, text);
  if ("errors" in parsed)
    throw new DaemonConfigError(
      parsed.errors.map((error) => ({
        where: error.where,
        message: `not valid YAML: ${error.message}`,
        hint: "fix the YAML syntax (indent with spaces; quote values containing ': ' or '#')",
      })),
    );
  return parsed;
}

/** Lays the flags over the file's raw value; returns which flag set each key path. */
function overlayFlags(
  raw: Record<string, unknown>,
  flags: DaemonConfigFlags,
  cwd: string,
): Map<string, string> {
  const origins = new Map<string, string>();
  for (const { option, flag, key, kind } of FLAG_KEYS) {
    const given = flags[option];
    if (given === undefined || given === false) continue;
    let value: unknown = given;
    if (kind === "path") value = resolve(cwd, given as string);
    else if (kind === "list") value = (given as string).split(",").map((name) => name.trim());
    let parent: Record<string, unknown> | undefined = raw;
    for (const segment of key.slice(0, -1)) {
      parent![segment] ??= {};
      const next: unknown = parent![segment];
      // A malformed section in the file is reported as such; the flag does not paper over it.
      parent = isPlainObject(next) ? next : undefined;
      if (!parent) break;
    }
    if (!parent) continue;
    parent[key[key.length - 1]!] = value;
    origins.set(formatPath(key), flag);
  }
  return origins;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
