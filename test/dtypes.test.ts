import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../src/errors.js";
import { enumType } from "../src/proto/registry.js";
import { allDTypes, baseDType, dtypeOf, isRefDType, shortDTypeName } from "../src/tensor/dtypes.js";

test("the dtype table matches every value of tensorflow.DataType in protos/, both ways", () => {
  const protoValues = enumType("tensorflow.DataType").values;
  const table = Object.fromEntries(allDTypes().map((d) => [d.name, d.number]));
  assert.deepEqual(table, { ...protoValues });
});

test("names, short names and numbers resolve to the same entry", () => {
  assert.equal(dtypeOf("DT_FLOAT").number, 1);
  assert.equal(dtypeOf("float").name, "DT_FLOAT");
  assert.equal(dtypeOf("bfloat16").number, 14);
  assert.equal(dtypeOf(19).name, "DT_HALF");
  assert.equal(dtypeOf("int64_ref").number, 109);
  assert.equal(shortDTypeName(dtypeOf(23)), "uint64");
});

test("_REF types map to their base (value - 100) and keep its element layout", () => {
  const ref = dtypeOf("DT_FLOAT_REF");
  assert.equal(ref.number, 101);
  assert.ok(isRefDType(ref));
  assert.equal(baseDType(ref).name, "DT_FLOAT");
  assert.equal(ref.byteSize, 4);
  assert.equal(baseDType(dtypeOf("DT_INT32")).name, "DT_INT32");
  assert.equal(dtypeOf(125).name, "DT_FLOAT8_E4M3FN_REF");
});

test("element sizes and value fields follow the facts sheet table", () => {
  const pick = (n: string) => {
    const d = dtypeOf(n);
    return [d.byteSize, d.valField];
  };
  assert.deepEqual(pick("DT_INT8"), [1, "int_val"]);
  assert.deepEqual(pick("DT_UINT16"), [2, "int_val"]);
  assert.deepEqual(pick("DT_HALF"), [2, "half_val"]);
  assert.deepEqual(pick("DT_BFLOAT16"), [2, "half_val"]);
  assert.deepEqual(pick("DT_INT64"), [8, "int64_val"]);
  assert.deepEqual(pick("DT_UINT32"), [4, "uint32_val"]);
  assert.deepEqual(pick("DT_UINT64"), [8, "uint64_val"]);
  assert.deepEqual(pick("DT_STRING"), [undefined, "string_val"]);
  assert.deepEqual(pick("DT_COMPLEX128"), [16, "dcomplex_val"]);
});

test("unknown dtypes fail with a UsageError naming the value and the fix", () => {
  for (const bad of ["DT_FLOAT32", "", 99, 126]) {
    assert.throws(
      () => dtypeOf(bad, "model.json"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.includes(JSON.stringify(bad)) &&
        e.where === "model.json" &&
        /DT_FLOAT/.test(e.hint ?? ""),
    );
  }
});
