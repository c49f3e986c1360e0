// Runs functions of matfill_helpers/explore/js/als.js for tests/test_explorer_js.py: reads a JSON list of
// requests on stdin ({ op, ... }), writes a JSON list of answers on stdout. Arrays arrive and
// leave as plain JSON arrays (row-major, as the JavaScript module stores them).
"use strict";
const path = require("path");
const ALS = require(path.join(__dirname, "..", "..", "matfill_helpers", "explore", "js", "als.js"));

const f64 = (a) => Float64Array.from(a);
const list = (a) => Array.from(a);

const ops = {
  rand: (r) => list(ALS.torchRand(r.seed, r.count)),
  mask: (r) => list(ALS.maskImage(r.seed, r.prop, r.height, r.width)),
  below: (r) => list(ALS.belowProp(Float32Array.from(r.u), r.prop)),
  pyramid: (r) => list(ALS.pyramidFill(f64(r.A0), f64(r.M), r.m, r.n)),
  eigen: (r) => {
    const e = ALS.symmetricEigen(f64(r.G), r.d);
    return { values: list(e.values), vectors: list(e.vectors) };
  },
  svdInit: (r) => list(ALS.svdInit(f64(r.X), r.m, r.n, r.k)),
  solveRows: (r) => {
    // r.mask (m, n) 1 = missing, r.A (m, n), r.F (n, k): the rows of W given H^T = F
    const obs = ALS.observedEntries(Uint8Array.from(r.mask), r.m, r.n);
    const values = ALS.observedValues(f64(r.A), obs).byRow;
    const out = new Float64Array(r.m * r.k);
    ALS.solveRows(obs.rows, values, f64(r.F), r.k, r.ridge, out);
    return list(out);
  },
  factorize: (r) => {
    // r.channels: list of (m, n), r.mask (m, n) 1 = missing
    const obs = ALS.observedEntries(Uint8Array.from(r.mask), r.m, r.n);
    const fit = ALS.factorizeAls(r.channels.map(f64), obs, r.m, r.n, r.k, r.options);
    return {
      W: fit.W.map(list), Ht: fit.Ht.map(list), mean: fit.mean, history: fit.history,
      recon: list(ALS.reconstruction(fit, r.m, r.n, r.k)),
    };
  },
  explore: (r) => {
    const t0 = performance.now();
    const out = ALS.exploreSetting(f64(r.img), r.height, r.width, r.setting);
    return {
      seconds: (performance.now() - t0) / 1000, sweeps: out.sweeps, rmse: out.rmse,
      psnr: out.psnr, rmseMissing: out.rmseMissing, psnrMissing: out.psnrMissing,
      mask: list(out.mask), recon: r.recon ? list(out.recon) : null,
    };
  },
  fit: (r) => list(ALS.fitPixels(Uint8ClampedArray.from(r.rgba), r.srcHeight, r.srcWidth, r.height, r.width)),
  metrics: (r) => ALS.metrics(f64(r.img), f64(r.recon), r.mask ? Uint8Array.from(r.mask) : undefined),
};

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const answers = JSON.parse(input).map((r) => {
    if (!(r.op in ops)) throw new Error("unknown op " + r.op);
    return ops[r.op](r);
  });
  process.stdout.write(JSON.stringify(answers));
});
