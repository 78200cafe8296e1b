// The README's configuration reference cannot drift: it must equal what scripts/config-reference.ts generates from
// the schema, the example's comments and the defaults, and every key must be described in the example.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { z } from "zod";
import {
  BEGIN,
  configReference,
  END,
  exampleDescriptions,
  README,
  renderReference,
  schemaRows,
  typeOf,
  withReference,
} from "../scripts/config-reference.js";
import { daemonConfigFileSchema } from "../src/daemon-config/schema.js";

test("README's configuration reference is exactly what `npm run docs:config` generates", async () => {
  const readme = readFileSync(README, "utf8");
  const { markdown } = await configReference();
  assert.ok(readme.includes(BEGIN) && readme.includes(END), "README.md has the generated section's markers");
  assert.equal(withReference(readme, markdown), readme, "README.md is stale: run npm run docs:config");
});

test("every key of the daemon config schema has a description in config/tfs-rollout.example.yaml", async () => {
  const { undocumented } = await configReference();
  assert.deepEqual(undocumented, [], "add a comment above each of these keys in the example file");
});

test("the reference lists every schema key, leaves and lists included, with the example's defaults", async () => {
  const { markdown } = await configReference();
  for (const row of schemaRows().filter((r) => !r.section))
    assert.match(markdown, new RegExp(`^\\| \`${row.path.replace(/[[\].]/g, "\\$&")}\` \\|`, "m"), row.path);
  assert.match(markdown, /^\| `model_config_file` \| string \| required \|/m);
  assert.match(markdown, /^\| `tf_serving\.call_deadline` \| duration \| `30s` \|/m);
  assert.match(markdown, /^\| `tf_serving\.max_receive_message_size` \| byte size \| `64MiB` \|/m);
  assert.match(markdown, /^\| `watch\.rescan_cron` \| cron expression \| `\*\/30 \* \* \* \* \*` \|/m);
  assert.match(markdown, /^\| `rollback\.action` \| one of rename, delete \| `rename` \|/m);
  assert.match(
    markdown,
    /^\| `gate\.requests\[\]\.name` \| string \| required \| unique; names the request/m,
  );
  assert.match(markdown, /^\| `tf_serving\.rest_url` \| http\(s\) URL \| unset \|/m);
});

const EXAMPLE = `# header comment, not about any key

section:
  # What a does.
  a: 1
  # Backoff between attempts, from b_min
  # up to b_max.
  b_min: 1s
  b_max: 2m

  c: "x # not a comment" # trailing: about c
  # Unset by default.
  # d: 5
  # e:
  #   f: /x      # about f, with g (both or neither),
  #   g: /y      #   when needed
  list: []
  # list:
  #   - name: one   # unique name
  #     tol: { abs: 1, rel: 2 }  # tolerances
  #     more: x
other: {}

  # lost: a blank line follows

plain: 3
`;

test("descriptions: comment lines above a key, trailing comments, commented-out keys, lists and flow maps", () => {
  const d = Object.fromEntries(exampleDescriptions(EXAMPLE));
  assert.equal(d["section.a"], "What a does.");
  assert.equal(d["section.b_min"], "Backoff between attempts, from b_min up to b_max.");
  assert.equal(
    d["section.b_max"],
    d["section.b_min"],
    "an undescribed key right below a sibling shares its comment",
  );
  assert.equal(d["section.c"], "trailing: about c", "a # inside quotes is not a comment");
  assert.equal(d["section.d"], "Unset by default.");
  assert.equal(d["section.e.f"], "about f, with g (both or neither), when needed");
  assert.equal(
    d["section.e.g"],
    d["section.e.f"],
    "a trailing comment continued on the next line covers both",
  );
  assert.equal(d["section.list[].name"], "unique name");
  assert.equal(d["section.list[].tol"], "tolerances");
  assert.equal(d["section.list[].tol.abs"], "tolerances", "flow-map keys share their parent's comment");
  assert.equal(d["section.list[].more"], "tolerances");
  assert.equal(d["section"], "", "shown, without a comment of its own");
  assert.equal(d["other"], "");
  assert.equal(d["plain"], "", "a comment separated by a blank line describes nothing");
  assert.equal(d["absent"], undefined);
});

test("types come from the schema's own checks: durations, sizes, formats, bounds, enums, unions", () => {
  const type = (schema: z.ZodType) => typeOf(schema).type;
  const shape = (daemonConfigFileSchema.shape.tf_serving.unwrap() as z.ZodObject).shape as Record<
    string,
    z.ZodType
  >;
  assert.equal(type(shape.call_deadline!), "duration");
  assert.equal(type(shape.max_receive_message_size!), "byte size");
  assert.equal(type(shape.grpc_address!), "HOST:PORT");
  assert.equal(type(z.number().int().min(1).optional()), "integer (at least 1)");
  assert.equal(type(z.number()), "number");
  assert.equal(type(z.enum(["a", "b"])), "one of a, b");
  assert.equal(type(z.union([z.literal(false), z.string()])), "false or string");
  assert.equal(type(z.array(z.string())), "list of strings");
  assert.equal(type(z.record(z.string(), z.strictObject({}))), "map of name to object");
  assert.equal(
    type(
      z
        .unknown()
        .transform((v, ctx) =>
          v === "off" ? v : (ctx.addIssue({ code: "custom", message: "no" }), z.NEVER),
        ),
    ),
    "off",
  );
});

test("render: sections only when described, undocumented leaves reported, cells escaped, defaults formatted", () => {
  const schema = z.strictObject({
    group: z
      .strictObject({
        wait: z
          .unknown()
          .transform(() => 1500)
          .optional(),
        mode: z.enum(["x", "y"]).optional(),
      })
      .optional(),
    items: z.array(z.strictObject({ name: z.string(), size: z.number().optional() })).optional(),
    fresh: z.boolean().optional(),
  });
  const rows = schemaRows(schema);
  assert.deepEqual(
    rows.map((r) => r.path),
    ["group", "group.wait", "group.mode", "items", "items[].name", "items[].size", "fresh"],
  );
  const descriptions = new Map([
    ["group", ""],
    ["group.mode", "x | y"],
    ["items", "the items"],
    ["items[].name", "a name, e.g. _SUCCESS or <x> or *y*, not `a_*b*`"],
  ]);
  const { markdown, undocumented } = renderReference(rows, descriptions, { group: { mode: "x" }, items: [] });
  assert.deepEqual(undocumented, ["group.wait", "items[].size", "fresh"]);
  assert.ok(!markdown.includes("`group` |"), "an undescribed section has no row of its own");
  assert.match(markdown, /^\| `group\.mode` \| one of x, y \| `x` \| x \\\| y \|$/m);
  assert.match(markdown, /^\| `items` \| list of objects \| `\[\]` \| the items \|$/m);
  assert.match(
    markdown,
    /^\| `items\[\]\.name` \| string \| required \| a name, e\.g\. \\_SUCCESS or \\<x\\> or \\\*y\\\*, not `a_\*b\*` \|$/m,
  );
  assert.match(markdown, /^\| `fresh` \| boolean \| unset \| {2}\|$/m);
});

test("keys added later are picked up: transformed objects and lists are entered, wrappers looked through", () => {
  const schema = z.strictObject({
    later: z
      .strictObject({
        every: z.string().optional(),
        items: z.array(z.strictObject({ id: z.number() })).nullable(),
      })
      .transform((value) => ({ ...value, parsed: true }))
      .optional(),
    counted: z.number().int().default(3),
  });
  assert.deepEqual(
    schemaRows(schema).map((r) => `${r.path}: ${r.type}${r.section ? " (section)" : ""}`),
    [
      "later: object (section)",
      "later.every: string",
      "later.items: list of objects",
      "later.items[].id: number",
      "counted: integer",
    ],
  );
});

test("render: a key shown without a comment inside a described section refers to the section", () => {
  const schema = z.strictObject({
    latency: z.strictObject({ enabled: z.boolean(), floor: z.number(), hidden: z.number() }),
  });
  const descriptions = new Map([
    ["latency", "Latency budget."],
    ["latency.enabled", ""],
    ["latency.floor", "floor of percentiles"],
  ]);
  const { markdown, undocumented } = renderReference(schemaRows(schema), descriptions, {
    latency: { enabled: false },
  });
  assert.match(markdown, /^\| `latency` \| object \| {2}\| Latency budget\. \|$/m);
  assert.match(markdown, /^\| `latency\.enabled` \| boolean \| `false` \| see `latency` \|$/m);
  assert.deepEqual(
    undocumented,
    ["latency.hidden"],
    "a key the example does not show at all is undocumented",
  );
});

test("withReference replaces only the marked section and refuses a README without markers", () => {
  const readme = `# T\n\nbefore\n${BEGIN}\n\nold table\n\n${END}\nafter\n`;
  const updated = withReference(readme, "| new |");
  assert.equal(updated, `# T\n\nbefore\n${BEGIN}\n\n| new |\n\n${END}\nafter\n`);
  assert.equal(withReference(updated, "| new |"), updated);
  assert.throws(() => withReference("# no markers\n", "| x |"), /has no .* section to fill/);
});
