/*
 * Masked alternating least squares (ALS) in the browser: the JavaScript twin of
 * matfill_helpers/als.py, used by the book's live explorer (matfill_helpers/js/explorer.js).
 *
 * Every Python helper that one explorer setting goes through has a function of the same
 * shape here:
 *
 *   torch.rand(n, generator=seed)          torchRand(seed, n)   (bit for bit: mt19937)
 *   mh.mask_image(img, prop, generator)    maskImage(seed, prop, height, width)
 *   als.pyramid_fill(A0, M)                pyramidFill(A0, M, m, n)
 *   als.svd_init(A0, M, k)                 svdInit(pyramidFill(...), m, n, k)
 *   als.products, als.row_grams            products(F, n, k), rowGram(rows, i, KR, T, ...)
 *   als.solve_rows(M, A0, F, ridge)        solveRows(rows, values, F, k, ridge, out)
 *   als.objective(M, A0, W, H, ridge)      objective(observed, values, W, Ht, k, ridge)
 *   als.reconstruct_als (centred ALS)      alsSteps / factorizeAls(channels, observed, ...)
 *   mh.reconstruct's clamp to [0, 1]       reconstruction(fit, m, n, k)
 *   mh.metrics(img, recon, mask=...)       metrics(img, recon, mask)
 *   mh.explore_setting(img, ...)           exploreSteps / exploreSetting(img, H, W, setting)
 *   mh.fit_image(img, size)                fitPixels(rgba, srcHeight, srcWidth, H, W)
 *
 * Conventions. A matrix is a Float64Array in row-major order next to its shape: X (m, n) holds
 * X[i][j] at X[i * n + j]. An image is (3, H, W), channel after channel, values in [0, 1]. A mask
 * is a Uint8Array (H * W), 1 = missing (as mh.mask_image's True). A factor is stored with one
 * k-vector per row: W (m, k), and H transposed as Ht (n, k), so the vectors that a row solve sums
 * over are contiguous. Everything is computed in float64 (torch computes in float32: results
 * agree to about 1e-6).
 *
 * The file works as a plain <script> (it defines self.MatfillALS), inside a Web Worker (built
 * from this file's text, see serveWorker) and in Node.js (module.exports), with no dependency.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.MatfillALS = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // Random numbers: torch's CPU generator, so a seed hides the same pixels as in Python.

  /** Mersenne Twister MT19937 seeded like torch.Generator().manual_seed(seed) (low 32 bits). */
  function mt19937(seed) {
    var N = 624, M = 397;
    var state = new Uint32Array(N);
    var index = N;
    state[0] = seed >>> 0;
    for (var i = 1; i < N; i++) {
      var prev = state[i - 1] ^ (state[i - 1] >>> 30);
      state[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    function twist() {
      for (var i = 0; i < N; i++) {
        var y = (state[i] & 0x80000000) | (state[(i + 1) % N] & 0x7fffffff);
        state[i] = state[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      index = 0;
    }
    return function nextUint32() {
      if (index >= N) twist();
      var y = state[index++];
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      return y >>> 0;
    };
  }

  /**
   * torch.rand(count, generator=torch.Generator().manual_seed(seed)) on the CPU, bit for bit:
   * each float32 is the low 24 bits of one 32-bit draw, divided by 2^24.
   * Returns a Float32Array (count,).
   */
  function torchRand(seed, count) {
    var next = mt19937(seed);
    var out = new Float32Array(count);
    for (var i = 0; i < count; i++) out[i] = (next() & 0xffffff) / 16777216;
    return out;
  }

  /**
   * The mask of mh.mask_image(img, prop, generator=seed) for an image of height x width:
   * torch.rand((H, W)) < prop, compared in float32 as torch does. Returns a Uint8Array (H * W),
   * 1 = missing.
   */
  function maskImage(seed, prop, height, width) {
    return belowProp(torchRand(seed, height * width), prop);
  }

  /** u < prop for each float32 u, with prop rounded to float32 as torch does: Uint8Array. */
  function belowProp(u, prop) {
    var threshold = Math.fround(prop), mask = new Uint8Array(u.length);
    for (var i = 0; i < u.length; i++) mask[i] = u[i] < threshold ? 1 : 0;
    return mask;
  }

  /**
   * The entries of an (m, n) mask line by line, in compressed form: line i's observed entries
   * are index[start[i] .. start[i + 1]) and its missing ones missing[missingStart[i] ..
   * missingStart[i + 1]). The lines are the rows, or the columns when byColumns is true.
   */
  function lines(mask, m, n, byColumns) {
    var count = byColumns ? n : m, length = byColumns ? m : n, observed = 0;
    for (var p = 0; p < m * n; p++) if (!mask[p]) observed++;
    var out = {
      start: new Int32Array(count + 1), index: new Int32Array(observed),
      missingStart: new Int32Array(count + 1), missing: new Int32Array(m * n - observed),
    };
    var o = 0, x = 0;
    for (var a = 0; a < count; a++) {
      out.start[a] = o;
      out.missingStart[a] = x;
      for (var b = 0; b < length; b++) {
        var missing = mask[byColumns ? b * n + a : a * n + b];
        if (missing) out.missing[x++] = b;
        else out.index[o++] = b;
      }
    }
    out.start[count] = o;
    out.missingStart[count] = x;
    return out;
  }

  /**
   * The observed entries of an (m, n) mask (1 = missing): { m, n, count, rows, cols } with
   * rows = lines(mask, m, n, false) (observed columns of each row) and cols the observed rows
   * of each column.
   */
  function observedEntries(mask, m, n) {
    var rows = lines(mask, m, n, false);
    return { m: m, n: n, count: rows.index.length, rows: rows, cols: lines(mask, m, n, true) };
  }

  // ---------------------------------------------------------------------------------------------
  // The start: fill the holes coarse to fine, then the top-k SVD of the filled matrix.

  /** F.avg_pool2d(x, 2, ceil_mode=True) of one (m, n) matrix: (ceil(m/2), ceil(n/2)). */
  function avgPool2(x, m, n) {
    var mo = Math.ceil(m / 2), no = Math.ceil(n / 2);
    var out = new Float64Array(mo * no);
    for (var i = 0; i < mo; i++) {
      var i1 = Math.min(2 * i + 2, m);
      for (var j = 0; j < no; j++) {
        var j1 = Math.min(2 * j + 2, n), sum = 0;
        for (var a = 2 * i; a < i1; a++) for (var b = 2 * j; b < j1; b++) sum += x[a * n + b];
        out[i * no + j] = sum / ((i1 - 2 * i) * (j1 - 2 * j));  // a window past the edge: its part
      }
    }
    return out;
  }

  /** Source index and weight of F.interpolate(..., mode="bilinear", align_corners=False). */
  function bilinearTaps(size, outSize) {
    var scale = size / outSize;
    var lo = new Int32Array(outSize), hi = new Int32Array(outSize), w = new Float64Array(outSize);
    for (var o = 0; o < outSize; o++) {
      var src = Math.max(scale * (o + 0.5) - 0.5, 0);
      lo[o] = Math.floor(src);
      hi[o] = Math.min(lo[o] + 1, size - 1);
      w[o] = src - lo[o];  // weight of hi
    }
    return { lo: lo, hi: hi, w: w };
  }

  /** Bilinear resize of an (m, n) matrix to (mo, no), as F.interpolate(align_corners=False). */
  function resizeBilinear(x, m, n, mo, no) {
    var ty = bilinearTaps(m, mo), tx = bilinearTaps(n, no);
    var out = new Float64Array(mo * no);
    for (var i = 0; i < mo; i++) {
      var r0 = ty.lo[i] * n, r1 = ty.hi[i] * n, wy = ty.w[i];
      for (var j = 0; j < no; j++) {
        var c0 = tx.lo[j], c1 = tx.hi[j], wx = tx.w[j];
        out[i * no + j] = (1 - wy) * ((1 - wx) * x[r0 + c0] + wx * x[r0 + c1]) +
          wy * ((1 - wx) * x[r1 + c0] + wx * x[r1 + c1]);
      }
    }
    return out;
  }

  /**
   * als.pyramid_fill for one (m, n) matrix: A0 (m * n) with anything at missing entries, M
   * (m * n) 1 = observed. Observed entries are kept; a missing entry gets the mean of the
   * observed entries of the smallest 2^l x 2^l block around it that has one (blended
   * bilinearly between levels). Returns a new Float64Array (m * n).
   */
  function pyramidFill(A0, M, m, n) {
    var num = new Float64Array(m * n), den = new Float64Array(m * n);
    for (var p = 0; p < m * n; p++) {
      num[p] = A0[p] * M[p];
      den[p] = M[p];
    }
    var levels = [];
    while (Math.min(m, n) > 1) {
      levels.push({ num: num, den: den, m: m, n: n });
      num = avgPool2(num, m, n);
      den = avgPool2(den, m, n);
      m = Math.ceil(m / 2);
      n = Math.ceil(n / 2);
    }
    var sumNum = 0, sumDen = 0;
    for (var q = 0; q < m * n; q++) {
      sumNum += num[q];
      sumDen += den[q];
    }
    var mean = sumNum / Math.max(sumDen, 1e-12);
    var est = new Float64Array(m * n);
    for (var r = 0; r < m * n; r++) est[r] = den[r] > 0 ? num[r] / Math.max(den[r], 1e-12) : mean;
    for (var l = levels.length - 1; l >= 0; l--) {
      var lv = levels[l];
      var up = resizeBilinear(est, m, n, lv.m, lv.n);
      for (var s = 0; s < lv.m * lv.n; s++) {
        up[s] = lv.den[s] > 0 ? lv.num[s] / Math.max(lv.den[s], 1e-12) : up[s];
      }
      est = up;
      m = lv.m;
      n = lv.n;
    }
    for (var t = 0; t < m * n; t++) if (M[t]) est[t] = A0[t];
    return est;
  }

  /** The Gram matrix X^T X (n, n) of X (m, n), or X X^T (m, m) when transpose is true. */
  function gram(X, m, n, transpose) {
    var d = transpose ? m : n, G = new Float64Array(d * d);
    for (var a = 0; a < d; a++) {
      for (var b = 0; b <= a; b++) {
        var s = 0;
        if (transpose) for (var j = 0; j < n; j++) s += X[a * n + j] * X[b * n + j];
        else for (var i = 0; i < m; i++) s += X[i * n + a] * X[i * n + b];
        G[a * d + b] = s;
        G[b * d + a] = s;
      }
    }
    return G;
  }

  /**
   * Householder reduction of a symmetric (d, d) matrix to tridiagonal form (EISPACK's tred2,
   * as in the public-domain JAMA library). V (d * d) holds the matrix on entry and the
   * orthogonal transformation on return; diag (d) and off (d) receive the tridiagonal matrix
   * (off[i] couples i - 1 and i).
   */
  function tridiagonalize(V, d, diag, off) {
    var i, j, k, f, g, h, hh, scale;
    for (j = 0; j < d; j++) diag[j] = V[(d - 1) * d + j];
    for (i = d - 1; i > 0; i--) {
      scale = 0;
      h = 0;
      for (k = 0; k < i; k++) scale += Math.abs(diag[k]);
      if (scale === 0) {
        off[i] = diag[i - 1];
        for (j = 0; j < i; j++) {
          diag[j] = V[(i - 1) * d + j];
          V[i * d + j] = 0;
          V[j * d + i] = 0;
        }
      } else {
        for (k = 0; k < i; k++) {  // the Householder vector, scaled against overflow
          diag[k] /= scale;
          h += diag[k] * diag[k];
        }
        f = diag[i - 1];
        g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
        off[i] = scale * g;
        h -= f * g;
        diag[i - 1] = f - g;
        for (j = 0; j < i; j++) off[j] = 0;
        for (j = 0; j < i; j++) {  // apply the reflection to the remaining columns
          f = diag[j];
          V[j * d + i] = f;
          g = off[j] + V[j * d + j] * f;
          for (k = j + 1; k <= i - 1; k++) {
            g += V[k * d + j] * diag[k];
            off[k] += V[k * d + j] * f;
          }
          off[j] = g;
        }
        f = 0;
        for (j = 0; j < i; j++) {
          off[j] /= h;
          f += off[j] * diag[j];
        }
        hh = f / (h + h);
        for (j = 0; j < i; j++) off[j] -= hh * diag[j];
        for (j = 0; j < i; j++) {
          f = diag[j];
          g = off[j];
          for (k = j; k <= i - 1; k++) V[k * d + j] -= f * off[k] + g * diag[k];
          diag[j] = V[(i - 1) * d + j];
          V[i * d + j] = 0;
        }
      }
      diag[i] = h;
    }
    for (i = 0; i < d - 1; i++) {  // accumulate the transformations
      V[(d - 1) * d + i] = V[i * d + i];
      V[i * d + i] = 1;
      h = diag[i + 1];
      if (h !== 0) {
        for (k = 0; k <= i; k++) diag[k] = V[k * d + i + 1] / h;
        for (j = 0; j <= i; j++) {
          g = 0;
          for (k = 0; k <= i; k++) g += V[k * d + i + 1] * V[k * d + j];
          for (k = 0; k <= i; k++) V[k * d + j] -= g * diag[k];
        }
      }
      for (k = 0; k <= i; k++) V[k * d + i + 1] = 0;
    }
    for (j = 0; j < d; j++) {
      diag[j] = V[(d - 1) * d + j];
      V[(d - 1) * d + j] = 0;
    }
    V[(d - 1) * d + d - 1] = 1;
    off[0] = 0;
  }

  /**
   * Eigenvalues and eigenvectors of the tridiagonal matrix left by tridiagonalize, by the
   * implicit QL method (EISPACK's tql2, as in JAMA). On return diag holds the eigenvalues in
   * ascending order and column c of V (d, d) the eigenvector of diag[c].
   */
  function tridiagonalQL(V, d, diag, off) {
    var i, j, k, l, m, iter, f = 0, tst1 = 0, eps = Math.pow(2, -52);
    var g, p, r, h, c, c2, c3, el1, s, s2, dl1;
    for (i = 1; i < d; i++) off[i - 1] = off[i];
    off[d - 1] = 0;
    for (l = 0; l < d; l++) {
      tst1 = Math.max(tst1, Math.abs(diag[l]) + Math.abs(off[l]));
      m = l;
      while (m < d && Math.abs(off[m]) > eps * tst1) m++;  // a negligible off-diagonal entry
      if (m > l) {
        iter = 0;
        do {
          if (++iter > 60) throw new Error("tridiagonalQL: no convergence");
          g = diag[l];  // the implicit shift
          p = (diag[l + 1] - g) / (2 * off[l]);
          r = Math.hypot(p, 1);
          if (p < 0) r = -r;
          diag[l] = off[l] / (p + r);
          diag[l + 1] = off[l] * (p + r);
          dl1 = diag[l + 1];
          h = g - diag[l];
          for (i = l + 2; i < d; i++) diag[i] -= h;
          f += h;
          p = diag[m];  // the QL sweep, rotating V along
          c = 1;
          c2 = c;
          c3 = c;
          el1 = off[l + 1];
          s = 0;
          s2 = 0;
          for (i = m - 1; i >= l; i--) {
            c3 = c2;
            c2 = c;
            s2 = s;
            g = c * off[i];
            h = c * p;
            r = Math.hypot(p, off[i]);
            off[i + 1] = s * r;
            s = off[i] / r;
            c = p / r;
            p = c * diag[i] - s * g;
            diag[i + 1] = h + s * (c * g + s * diag[i]);
            for (k = 0; k < d; k++) {
              h = V[k * d + i + 1];
              V[k * d + i + 1] = s * V[k * d + i] + c * h;
              V[k * d + i] = c * V[k * d + i] - s * h;
            }
          }
          p = -s * s2 * c3 * el1 * off[l] / dl1;
          off[l] = s * p;
          diag[l] = c * p;
        } while (Math.abs(off[l]) > eps * tst1);
      }
      diag[l] += f;
      off[l] = 0;
    }
    for (i = 0; i < d - 1; i++) {  // sort ascending, columns of V along
      k = i;
      p = diag[i];
      for (j = i + 1; j < d; j++) {
        if (diag[j] < p) {
          k = j;
          p = diag[j];
        }
      }
      if (k !== i) {
        diag[k] = diag[i];
        diag[i] = p;
        for (j = 0; j < d; j++) {
          p = V[j * d + i];
          V[j * d + i] = V[j * d + k];
          V[j * d + k] = p;
        }
      }
    }
  }

  /**
   * Eigen-decomposition of a symmetric (d, d) matrix G: { values (d) ascending, vectors (d, d)
   * with the eigenvector of values[c] in column c }. G is not modified.
   */
  function symmetricEigen(G, d) {
    var V = Float64Array.from(G), values = new Float64Array(d), off = new Float64Array(d);
    tridiagonalize(V, d, values, off);
    tridiagonalQL(V, d, values, off);
    return { values: values, vectors: V };
  }

  /**
   * als.svd_init for one filled (m, n) matrix X: Ht (n, k) = (sqrt(S_k) Vh_k)^T from the top-k
   * singular triplets. They come from the eigen-decomposition of the smaller Gram matrix:
   * X^T X = V S^2 V^T when n <= m; otherwise X X^T = U S^2 U^T and v = X^T u / s.
   * (Signs and the order within equal singular values may differ from torch; ALS does not
   * care: it is invariant to an orthogonal change of basis of the factors.)
   */
  function svdInit(X, m, n, k) {
    var byColumns = n <= m, d = byColumns ? n : m;
    var eig = symmetricEigen(gram(X, m, n, !byColumns), d);
    var Ht = new Float64Array(n * k);
    for (var r = 0; r < k; r++) {
      var c = d - 1 - r;  // the r-th largest eigenvalue
      var lambda = Math.max(eig.values[c], 0);  // s^2
      var j, i;
      if (byColumns) {
        var root4 = Math.sqrt(Math.sqrt(lambda));  // sqrt(s)
        for (j = 0; j < n; j++) Ht[j * k + r] = root4 * eig.vectors[j * d + c];
      } else {
        if (!(lambda > 0)) continue;  // s = 0: that row of H is 0
        var scale = 1 / Math.sqrt(Math.sqrt(lambda));  // sqrt(s) * (1 / s)
        for (j = 0; j < n; j++) {
          var s = 0;
          for (i = 0; i < m; i++) s += X[i * n + j] * eig.vectors[i * d + c];
          Ht[j * k + r] = scale * s;
        }
      }
    }
    return Ht;
  }

  // ---------------------------------------------------------------------------------------------
  // The sweep: every row of W solves its own k x k ridge system, then every column of H.

  /** Cholesky factor of a symmetric positive definite (k, k) matrix, in place (lower triangle). */
  function cholesky(G, k) {
    for (var j = 0; j < k; j++) {
      var s = G[j * k + j];
      for (var p = 0; p < j; p++) s -= G[j * k + p] * G[j * k + p];
      var djj = Math.sqrt(s);
      G[j * k + j] = djj;
      for (var i = j + 1; i < k; i++) {
        var t = G[i * k + j];
        for (var q = 0; q < j; q++) t -= G[i * k + q] * G[j * k + q];
        G[i * k + j] = t / djj;
      }
    }
  }

  /** Solve L L^T x = b for x in place (b, length k) from the Cholesky factor L (k, k). */
  function choleskySolve(L, k, b) {
    var i, p, s;
    for (i = 0; i < k; i++) {  // L y = b
      s = b[i];
      for (p = 0; p < i; p++) s -= L[i * k + p] * b[p];
      b[i] = s / L[i * k + i];
    }
    for (i = k - 1; i >= 0; i--) {  // L^T x = y
      s = b[i];
      for (p = i + 1; p < k; p++) s -= L[p * k + i] * b[p];
      b[i] = s / L[i * k + i];
    }
  }

  /**
   * als.products: the products f_p f_q (q <= p) of each row f_j of F (n, k), packed:
   * KR (n, T) with T = k (k + 1) / 2 and f_p f_q at KR[j * T + p (p + 1) / 2 + q].
   */
  function products(F, n, k) {
    var T = (k * (k + 1)) / 2, KR = new Float64Array(n * T);
    for (var j = 0; j < n; j++) {
      var f = j * k, t = j * T;
      for (var p = 0; p < k; p++) {
        var fp = F[f + p];
        for (var q = 0; q <= p; q++) KR[t++] = fp * F[f + q];
      }
    }
    return KR;
  }

  /**
   * G (T) += sign * sum_e KR[list[e]] for e in [from, to): rows of KR (n, T) added four at a time
   * (the sum that dominates a sweep; one pass over G per four rows).
   */
  function addRows(G, KR, T, list, from, to, sign) {
    var e = from, t, j0, j1, j2, j3;
    for (; e + 3 < to; e += 4) {
      j0 = list[e] * T;
      j1 = list[e + 1] * T;
      j2 = list[e + 2] * T;
      j3 = list[e + 3] * T;
      for (t = 0; t < T; t++) G[t] += sign * (KR[j0 + t] + KR[j1 + t] + KR[j2 + t] + KR[j3 + t]);
    }
    for (; e < to; e++) for (j0 = list[e] * T, t = 0; t < T; t++) G[t] += sign * KR[j0 + t];
  }

  /**
   * als.row_grams for one row: the packed Gram matrix G (T) = sum_{j observed in row i} f_j f_j^T
   * from the products KR (n, T). When the row has more observed entries than missing ones it
   * computes the same sum as total - sum_{j missing} f_j f_j^T (total (T): the sum over all j).
   */
  function rowGram(rows, i, KR, T, total, G) {
    var lo = rows.start[i], hi = rows.start[i + 1];
    var mlo = rows.missingStart[i], mhi = rows.missingStart[i + 1];
    if (hi - lo <= mhi - mlo) {
      G.fill(0);
      addRows(G, KR, T, rows.index, lo, hi, 1);
    } else {
      G.set(total);
      addRows(G, KR, T, rows.missing, mlo, mhi, -1);
    }
  }

  // [solveRows]
  /**
   * als.solve_rows: for each row i of an (m, n) problem, with the factor
   * F (n, k) fixed, solve the ridge normal equations
   *   (sum_{j obs.} f_j f_j^T + ridge I) x_i = sum_{j obs.} A_ij f_j.
   *
   * rows: the observed (and missing) columns of each row (see lines)
   * values (count): A_ij at the observed entries, in rows.index order
   * F (n * k): f_j = F[j * k .. j * k + k)
   * out (m * k): receives x_i = out[i * k .. i * k + k)
   */
  function solveRows(rows, values, F, k, ridge, out) {
    var m = rows.start.length - 1, n = F.length / k, T = (k * (k + 1)) / 2;
    var KR = products(F, n, k);  // (n, T), shared by every row
    var total = new Float64Array(T);  // sum_j f_j f_j^T over every j
    for (var j = 0; j < n; j++) {
      for (var u = 0; u < T; u++) total[u] += KR[j * T + u];
    }
    var packed = new Float64Array(T), G = new Float64Array(k * k);
    var x = new Float64Array(k);
    for (var i = 0; i < m; i++) {
      rowGram(rows, i, KR, T, total, packed);  // (T,)
      for (var p = 0, t = 0; p < k; p++) {  // unpack, add the ridge
        for (var q = 0; q <= p; q++) G[p * k + q] = packed[t++];
        G[p * k + p] += ridge;  // > 0: positive definite, even if empty
      }
      x.fill(0);  // the right-hand side sum_j A_ij f_j (k,)
      for (var e = rows.start[i]; e < rows.start[i + 1]; e++) {
        var f = rows.index[e] * k, a = values[e];
        for (var r = 0; r < k; r++) x[r] += a * F[f + r];
      }
      cholesky(G, k);  // G = L L^T
      choleskySolve(G, k, x);  // x = G^-1 x
      out.set(x, i * k);
    }
  }
  // [/solveRows]

  /**
   * als.objective of one channel: the squared error on the observed entries plus
   * ridge * (|W|^2 + |Ht|^2). W (m, k), Ht (n, k).
   */
  function objective(observed, values, W, Ht, k, ridge) {
    var rows = observed.rows, total = 0, i, e, p;
    for (i = 0; i < observed.m; i++) {
      for (e = rows.start[i]; e < rows.start[i + 1]; e++) {
        var w = i * k, h = rows.index[e] * k, pred = 0;
        for (p = 0; p < k; p++) pred += W[w + p] * Ht[h + p];
        total += (pred - values[e]) * (pred - values[e]);
      }
    }
    var norms = 0;
    for (p = 0; p < W.length; p++) norms += W[p] * W[p];
    for (p = 0; p < Ht.length; p++) norms += Ht[p] * Ht[p];
    return total + ridge * norms;
  }

  /** The observed values of one (m, n) channel in row order and in column order. */
  function observedValues(A, observed) {
    var n = observed.n, rows = observed.rows, cols = observed.cols;
    var byRow = new Float64Array(observed.count), byCol = new Float64Array(observed.count);
    for (var i = 0; i < observed.m; i++) {
      for (var e = rows.start[i]; e < rows.start[i + 1]; e++) byRow[e] = A[i * n + rows.index[e]];
    }
    for (var j = 0; j < n; j++) {
      for (var c = cols.start[j]; c < cols.start[j + 1]; c++) byCol[c] = A[cols.index[c] * n + j];
    }
    return { byRow: byRow, byCol: byCol };
  }

  /**
   * The steps of als.factorize_als for the channels of one image, which share one mask.
   * A generator: it yields { stage: "start" } once the start is computed and then
   * { stage: "sweep", sweep, objectives } after each sweep, so a caller can report progress or
   * pause between sweeps. Its return value is { W: [(m, k)], Ht: [(n, k)], mean: [mu], history }.
   *
   * channels: array of Float64Array (m * n), any value at missing entries
   * observed: observedEntries(mask, m, n)
   * options: ridge (> 0), maxSweeps, tol (stop when every channel's objective changed by at most
   *   tol times its value), centre (subtract each channel's mean of its observed entries first and
   *   add it back after: W Ht^T + mu)
   */
  function* alsSteps(channels, observed, m, n, k, options) {
    var ridge = options.ridge, tol = options.tol, B = channels.length;
    var M = new Float64Array(m * n);
    for (var i = 0; i < m; i++) {
      for (var e = observed.rows.start[i]; e < observed.rows.start[i + 1]; e++) {
        M[i * n + observed.rows.index[e]] = 1;
      }
    }
    var W = [], Ht = [], values = [], mean = [], b, p;
    for (b = 0; b < B; b++) {
      var A0 = new Float64Array(m * n), sum = 0;
      for (p = 0; p < m * n; p++) if (M[p]) sum += channels[b][p];
      mean.push(options.centre && observed.count > 0 ? sum / observed.count : 0);
      for (p = 0; p < m * n; p++) A0[p] = M[p] ? channels[b][p] - mean[b] : 0;
      values.push(observedValues(A0, observed));
      Ht.push(svdInit(pyramidFill(A0, M, m, n), m, n, k));
      W.push(new Float64Array(m * k));
    }
    yield { stage: "start" };
    var history = [];
    for (var sweep = 1; sweep <= options.maxSweeps; sweep++) {
      var now = [];
      for (b = 0; b < B; b++) {
        solveRows(observed.rows, values[b].byRow, Ht[b], k, ridge, W[b]);  // W (m, k)
        solveRows(observed.cols, values[b].byCol, W[b], k, ridge, Ht[b]);  // Ht (n, k)
        now.push(objective(observed, values[b].byRow, W[b], Ht[b], k, ridge));
      }
      history.push(now);
      var done = false;
      if (history.length > 1) {
        var prev = history[history.length - 2];
        done = now.every(function (v, c) { return Math.abs(prev[c] - v) <= tol * Math.abs(v); });
      }
      if (done || sweep === options.maxSweeps) {
        return { W: W, Ht: Ht, mean: mean, history: history };
      }
      yield { stage: "sweep", sweep: sweep, objectives: now };
    }
    return { W: W, Ht: Ht, mean: mean, history: history };
  }

  /** Run a generator to its end, passing what it yields to onStep (optional). */
  function runSteps(steps, onStep) {
    for (;;) {
      var r = steps.next();
      if (r.done) return r.value;
      if (onStep) onStep(r.value);
    }
  }

  /** als.factorize_als (all at once): returns { W, Ht, mean, history } as alsSteps. */
  function factorizeAls(channels, observed, m, n, k, options, onStep) {
    return runSteps(alsSteps(channels, observed, m, n, k, options), onStep);
  }

  /**
   * mh.reconstruct's last step: each channel's W Ht^T + mean, NaN -> 0.5, clamped to [0, 1].
   * Returns a Float64Array (B * m * n).
   */
  function reconstruction(fit, m, n, k) {
    var B = fit.W.length, out = new Float64Array(B * m * n);
    for (var b = 0; b < B; b++) {
      var W = fit.W[b], Ht = fit.Ht[b];
      for (var i = 0; i < m; i++) {
        for (var j = 0; j < n; j++) {
          var v = fit.mean[b];
          for (var p = 0; p < k; p++) v += W[i * k + p] * Ht[j * k + p];
          v = v !== v ? 0.5 : v;
          out[b * m * n + i * n + j] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Scores and one explorer setting.

  /**
   * mh.metrics: RMSE and PSNR (dB, data range 1) of recon against img, both (3 * H * W); on
   * the pixels where mask (H * W) is 1 when a mask is given, else on all pixels.
   */
  function metrics(img, recon, mask) {
    var size = mask ? mask.length : img.length, channels = img.length / size;
    var sum = 0, count = 0;
    for (var c = 0; c < channels; c++) {
      for (var p = 0; p < size; p++) {
        if (mask && !mask[p]) continue;
        var diff = recon[c * size + p] - img[c * size + p];
        sum += diff * diff;
        count++;
      }
    }
    if (count === 0) return { rmse: NaN, psnr: NaN };
    var mse = sum / count;
    return { rmse: Math.sqrt(mse), psnr: 10 * Math.log10(1 / mse) };
  }

  /**
   * The steps of mh.explore_setting(img, prop=..., rank=..., seed=...) with method "als": mask
   * with the seed, reconstruct, score. A generator like alsSteps; its return value is
   * { mask (H * W), recon (3 * H * W), rmse, psnr, rmseMissing, psnrMissing, sweeps }.
   *
   * img: Float64Array (3 * H * W) in [0, 1]
   * setting: { rank, prop, seed, ridge, maxSweeps, tol, centre }
   */
  function* exploreSteps(img, height, width, setting) {
    var size = height * width, mask = maskImage(setting.seed, setting.prop, height, width);
    var channels = [];
    for (var c = 0; c < img.length / size; c++) {
      channels.push(img.subarray(c * size, (c + 1) * size));  // (H, W) views
    }
    var observed = observedEntries(mask, height, width);
    if (observed.count === 0) throw new Error("every pixel is missing: lower the proportion");
    var fit = yield* alsSteps(channels, observed, height, width, setting.rank, setting);
    var recon = reconstruction(fit, height, width, setting.rank);
    var all = metrics(img, recon), missing = metrics(img, recon, mask);
    return {
      mask: mask, recon: recon, rmse: all.rmse, psnr: all.psnr,
      rmseMissing: missing.rmse, psnrMissing: missing.psnr, sweeps: fit.history.length,
    };
  }

  /** mh.explore_setting (all at once); onStep (optional) receives each step. */
  function exploreSetting(img, height, width, setting, onStep) {
    return runSteps(exploreSteps(img, height, width, setting), onStep);
  }

  // ---------------------------------------------------------------------------------------------
  // The reader's own photo: centre-crop to the explorer's shape, then average over areas.

  /**
   * Resampling weights along one axis: output pixel o covers the source interval
   * [start + o * step, start + (o + 1) * step) with step = length / outSize, and takes the
   * average of the source pixels weighted by their overlap with it. Returns for each o the
   * list of { index, weight } (weights sum to 1).
   */
  function areaWeights(size, start, length, outSize) {
    var step = length / outSize, taps = [];
    for (var o = 0; o < outSize; o++) {
      var lo = start + o * step, hi = lo + step, list = [];
      for (var s = Math.max(0, Math.floor(lo)); s < Math.min(size, Math.ceil(hi)); s++) {
        var overlap = Math.min(hi, s + 1) - Math.max(lo, s);
        if (overlap > 0) list.push({ index: s, weight: overlap / step });
      }
      taps.push(list);
    }
    return taps;
  }

  /**
   * mh.fit_image for RGBA bytes (the canvas's getImageData): the centred crop of the source
   * (srcHeight, srcWidth) with the aspect ratio of (height, width), averaged over areas to
   * (height, width) and rounded to 8 bits. Returns a Float64Array (3 * height * width) in [0, 1].
   */
  function fitPixels(rgba, srcHeight, srcWidth, height, width) {
    var cropH = srcHeight, cropW = srcWidth;
    if (srcWidth * height > srcHeight * width) cropW = srcHeight * width / height;
    else cropH = srcWidth * height / width;
    var ty = areaWeights(srcHeight, (srcHeight - cropH) / 2, cropH, height);
    var tx = areaWeights(srcWidth, (srcWidth - cropW) / 2, cropW, width);
    var out = new Float64Array(3 * height * width), size = height * width;
    var rowSum = new Float64Array(3 * srcWidth);
    for (var y = 0; y < height; y++) {
      rowSum.fill(0);  // (3, srcWidth): the weighted sum of the source rows under output row y
      ty[y].forEach(function (t) {
        var row = t.index * srcWidth * 4;  // RGBA bytes of source row t.index
        for (var x = 0; x < srcWidth; x++) {
          for (var c = 0; c < 3; c++) rowSum[c * srcWidth + x] += t.weight * rgba[row + 4 * x + c];
        }
      });
      for (var x2 = 0; x2 < width; x2++) {
        for (var c2 = 0; c2 < 3; c2++) {
          var v = 0;
          tx[x2].forEach(function (t) { v += t.weight * rowSum[c2 * srcWidth + t.index]; });
          out[c2 * size + y * width + x2] = Math.round(Math.min(Math.max(v, 0), 255)) / 255;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Running inside a Web Worker.

  /**
   * A function that runs its argument as a new task, after the events already queued: a
   * MessageChannel where there is one (unlike setTimeout, it is never throttled).
   */
  function taskQueue() {
    if (typeof MessageChannel === "undefined") return function (fn) { setTimeout(fn, 0); };
    var channel = new MessageChannel(), queue = [];
    channel.port1.onmessage = function () { queue.shift()(); };
    if (channel.port1.unref) channel.port1.unref();  // Node.js: let the process end
    return function (fn) {
      queue.push(fn);
      channel.port2.postMessage(0);
    };
  }

  /**
   * Run a generator's steps as separate tasks (later: from taskQueue), so other events, such as
   * a newer job, get their turn between two sweeps. onStep(step) after each step but the last,
   * done(err, value) at the end; stopped() is asked before each step and ends the run silently.
   */
  function runInTasks(steps, onStep, done, stopped, later) {
    (function next() {
      if (stopped()) return;
      var r;
      try {
        r = steps.next();
      } catch (err) {
        done(err);
        return;
      }
      if (r.done) {
        done(null, r.value);
        return;
      }
      onStep(r.value);
      later(next);
    })();
  }

  /**
   * Answer explorer jobs posted to a worker scope: { id, img, height, width, setting } in,
   * { id, type: "progress", step } after each step, then { id, type: "result", result, seconds }
   * or { id, type: "error", message }. A newer job stops the one in progress at its next step
   * (no answer for that one); a job with id 0 is a warm-up, computed but not answered.
   */
  function serveWorker(scope) {
    var later = taskQueue(), active = null;
    scope.onmessage = function (event) {
      var job = event.data, t0 = scope.performance.now();
      var post = function (msg, transfer) {
        if (job.id !== 0) scope.postMessage(msg, transfer || []);
      };
      active = job;
      runInTasks(
        exploreSteps(job.img, job.height, job.width, job.setting),
        function (step) { post({ id: job.id, type: "progress", step: step }); },
        function (err, result) {
          if (active === job) active = null;
          if (err) {
            post({ id: job.id, type: "error", message: String(err && err.message || err) });
            return;
          }
          var seconds = (scope.performance.now() - t0) / 1000;
          post({ id: job.id, type: "result", result: result, seconds: seconds },
            [result.recon.buffer, result.mask.buffer]);
        },
        function () { return active !== job; },
        later);
    };
  }

  return {
    mt19937: mt19937,
    torchRand: torchRand,
    maskImage: maskImage,
    belowProp: belowProp,
    lines: lines,
    observedEntries: observedEntries,
    avgPool2: avgPool2,
    resizeBilinear: resizeBilinear,
    pyramidFill: pyramidFill,
    gram: gram,
    symmetricEigen: symmetricEigen,
    svdInit: svdInit,
    products: products,
    rowGram: rowGram,
    cholesky: cholesky,
    choleskySolve: choleskySolve,
    solveRows: solveRows,
    objective: objective,
    observedValues: observedValues,
    alsSteps: alsSteps,
    factorizeAls: factorizeAls,
    reconstruction: reconstruction,
    metrics: metrics,
    exploreSteps: exploreSteps,
    exploreSetting: exploreSetting,
    areaWeights: areaWeights,
    fitPixels: fitPixels,
    taskQueue: taskQueue,
    runInTasks: runInTasks,
    serveWorker: serveWorker,
  };
});
