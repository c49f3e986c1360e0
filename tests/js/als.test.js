// Unit tests of matfill_helpers/explore/js/als.js that need no Python: `node --test tests/js/als.test.js`
// (tests/test_explorer_js.py runs them, next to the comparisons with torch).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const ALS = require(path.join(__dirname, "..", "..", "matfill_helpers", "explore", "js", "als.js"));

test("mt19937 gives the reference outputs for the reference seed 5489", () => {
  const next = ALS.mt19937(5489);
  assert.deepEqual([next(), next(), next()], [3499211612, 581869302, 3890346734]);
});

test("torchRand draws multiples of 2^-24 in [0, 1)", () => {
  const u = ALS.torchRand(3, 5000);
  for (const x of u) {
    assert.ok(x >= 0 && x < 1);
    assert.equal(x * 16777216, Math.round(x * 16777216));
  }
});

test("maskImage hides about prop of the pixels, and none or all at the extremes", () => {
  const mask = ALS.maskImage(0, 0.3, 100, 100);
  const hidden = mask.reduce((a, b) => a + b, 0) / mask.length;
  assert.ok(Math.abs(hidden - 0.3) < 0.02, String(hidden));
  assert.equal(ALS.maskImage(0, 0, 10, 10).reduce((a, b) => a + b, 0), 0);
  assert.equal(ALS.maskImage(0, 1, 10, 10).reduce((a, b) => a + b, 0), 100);
});

test("cholesky and choleskySolve solve a symmetric positive definite system", () => {
  const G = Float64Array.from([4, 2, 0.6, 2, 5, 1, 0.6, 1, 3]);
  const x = [1, -2, 0.5];
  const b = Float64Array.from([0, 1, 2].map((i) => x.reduce((s, xj, j) => s + G[i * 3 + j] * xj, 0)));
  ALS.cholesky(G, 3);
  ALS.choleskySolve(G, 3, b);
  b.forEach((v, i) => assert.ok(Math.abs(v - x[i]) < 1e-12));
});

test("pyramidFill keeps observed entries and fills a hole between them", () => {
  const filled = ALS.pyramidFill(Float64Array.from([1, 0, 3]), Float64Array.from([1, 0, 1]), 1, 3);
  assert.deepEqual(Array.from(filled), [1, 2, 3]);
});

test("ALS recovers an exact rank-2 matrix from 60 % of its entries", () => {
  const m = 30, n = 24, k = 2, next = ALS.mt19937(1);
  const rnd = () => (next() / 4294967296) - 0.5;
  const U = Array.from({ length: m * k }, rnd), V = Array.from({ length: n * k }, rnd);
  const A = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) A[i * n + j] = U[2 * i] * V[2 * j] + U[2 * i + 1] * V[2 * j + 1];
  const mask = ALS.maskImage(7, 0.4, m, n);
  const observed = ALS.observedEntries(mask, m, n);
  const stages = [];
  const fit = ALS.factorizeAls([A], observed, m, n, k, { ridge: 1e-9, maxSweeps: 300, tol: 1e-14, centre: false },
    (step) => stages.push(step.stage));
  assert.equal(stages[0], "start");
  assert.ok(stages.slice(1).every((s) => s === "sweep"));
  const recon = ALS.reconstruction({ W: fit.W, Ht: fit.Ht, mean: [0.5] }, m, n, k);  // shifted into [0, 1]
  let worst = 0;
  for (let p = 0; p < m * n; p++) worst = Math.max(worst, Math.abs(recon[p] - 0.5 - A[p]));
  assert.ok(worst < 1e-4, String(worst));
});

test("metrics: an offset of 0.1 everywhere is an RMSE of 0.1 and a PSNR of 20 dB", () => {
  const img = new Float64Array(3 * 16).fill(0.2), recon = img.map((v) => v + 0.1);
  const all = ALS.metrics(img, recon);
  assert.ok(Math.abs(all.rmse - 0.1) < 1e-12 && Math.abs(all.psnr - 20) < 1e-9);
  const none = ALS.metrics(img, recon, new Uint8Array(16));
  assert.ok(Number.isNaN(none.psnr));
});

test("fitPixels keeps a uniform colour and crops the centre of a wide image", () => {
  const w = 30, h = 10, rgba = new Uint8ClampedArray(4 * w * h);
  for (let p = 0; p < w * h; p++) {
    const x = p % w, inside = x >= 10 && x < 20;
    rgba.set(inside ? [200, 100, 50, 255] : [0, 0, 0, 255], 4 * p);
  }
  const out = ALS.fitPixels(rgba, h, w, 5, 5);
  for (let p = 0; p < 25; p++) assert.deepEqual([out[p], out[25 + p], out[50 + p]], [200 / 255, 100 / 255, 50 / 255]);
});

function fakeWorkerScope() {
  const scope = { performance: { now: () => 0 }, messages: [] };
  scope.postMessage = (msg) => scope.messages.push(msg);
  scope.settled = () => new Promise((resolve) => {
    const poll = () => (scope.messages.some((m) => m.type !== "progress") ? resolve() : setTimeout(poll, 5));
    poll();
  });
  ALS.serveWorker(scope);
  return scope;
}

const SETTING = { rank: 2, prop: 0.3, seed: 0, ridge: 1, maxSweeps: 5, tol: 2e-3, centre: false };

test("serveWorker answers a job with progress messages, then the result", async () => {
  const scope = fakeWorkerScope();
  const img = new Float64Array(3 * 8 * 8).map((_, i) => (i % 7) / 7);
  scope.onmessage({ data: { id: 3, img, height: 8, width: 8, setting: SETTING } });
  await scope.settled();
  const messages = scope.messages;
  assert.ok(messages.length >= 2);
  assert.ok(messages.slice(0, -1).every((m) => m.id === 3 && m.type === "progress"));
  const last = messages[messages.length - 1];
  assert.equal(last.type, "result");
  assert.equal(last.result.recon.length, 3 * 64);
  assert.ok(last.result.sweeps >= 1 && last.result.sweeps <= 5);
});

test("serveWorker drops a job when a newer one arrives, and answers nothing to a warm-up", async () => {
  const scope = fakeWorkerScope();
  const img = new Float64Array(3 * 32 * 32).map((_, i) => (i % 11) / 11);
  const slow = { ...SETTING, rank: 8, maxSweeps: 50, tol: 0 };
  scope.onmessage({ data: { id: 0, img, height: 32, width: 32, setting: slow } });
  scope.onmessage({ data: { id: 1, img, height: 32, width: 32, setting: slow } });
  scope.onmessage({ data: { id: 2, img, height: 32, width: 32, setting: SETTING } });
  await scope.settled();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const ids = new Set(scope.messages.map((m) => m.id));
  assert.ok(!ids.has(0));
  assert.ok(scope.messages.filter((m) => m.id === 1).every((m) => m.type === "progress"));
  assert.deepEqual(scope.messages.filter((m) => m.type === "result").map((m) => m.id), [2]);
});

test("serveWorker reports an impossible job as an error message", async () => {
  const scope = fakeWorkerScope();
  scope.onmessage({
    data: { id: 1, img: new Float64Array(3 * 4), height: 2, width: 2, setting: { ...SETTING, rank: 1, prop: 1 } },
  });
  await scope.settled();
  assert.deepEqual(scope.messages.map((m) => m.type), ["error"]);
  assert.match(scope.messages[0].message, /every pixel is missing/);
});
