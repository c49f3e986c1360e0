/*
 * The live explorer's page logic. matfill_helpers/browser_explorer.py writes the HTML (controls,
 * three images, scores, the settings as JSON) followed by als.js and this file; each explorer
 * then calls MatfillExplorer.start(uid).
 *
 * A change of a control (rank, missing proportion, seed) or a new photo recomputes one setting
 * with MatfillALS.exploreSteps in a Web Worker built from the text of the als.js <script>
 * (a Blob, so it works from file://); a newer request stops an older one between two sweeps.
 * Where no worker can start, the page runs the same steps itself, one sweep per task. Either
 * way the page never freezes and shows "computing..." with the sweep it is on. Results are
 * cached, so coming back to a setting is instant. Nothing is fetched and nothing is sent
 * anywhere: a chosen photo is read in the page.
 *
 * State for tests and scripts: the explorer's root element carries data-ready="true" once
 * wired up, data-state ("precomputed", "computing", "done" or "error"), data-engine ("worker"
 * or "page") and data-result, the JSON of the setting on show with its scores.
 */
(function (root) {
  "use strict";
  if (root.MatfillExplorer) return;

  var CACHE_SIZE = 64;  // settings kept per explorer (each a few kB of PNG)
  var MAX_SOURCE_SIDE = 2048;  // larger photos are first scaled down by the browser
  var SEED_MAX = 2147483647;

  function report(uid, err) {
    var text = err && err.stack || err;
    if (root.console) root.console.error("matfill explorer " + uid + ": " + text);
  }

  function fmt(x, digits, suffix) {
    if (x === null || x === undefined || !isFinite(x)) return "n/a";
    return x.toFixed(digits) + (suffix || "");
  }

  /** The embedded 8-bit pixels (base64 of H x W x 3 bytes) as an image (3 * H * W) in [0, 1]. */
  function decodePixels(b64, height, width) {
    var bytes = atob(b64), size = height * width, img = new Float64Array(3 * size);
    for (var p = 0; p < size; p++) {
      for (var c = 0; c < 3; c++) img[c * size + p] = bytes.charCodeAt(3 * p + c) / 255;
    }
    return img;
  }

  /** An image (3 * H * W) as a PNG data URL; pixels where mask is 1 are magenta. */
  function imageURL(img, height, width, mask) {
    var canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    var ctx = canvas.getContext("2d"), size = height * width;
    var out = ctx.createImageData(width, height);
    for (var p = 0; p < size; p++) {
      var rgb = mask && mask[p] ? [1, 0, 1] : [img[p], img[size + p], img[2 * size + p]];
      for (var c = 0; c < 3; c++) out.data[4 * p + c] = Math.round(255 * rgb[c]);
      out.data[4 * p + 3] = 255;
    }
    ctx.putImageData(out, 0, 0);
    return canvas.toDataURL("image/png");
  }

  /** A decoded <img> as an explorer image: composited on white, fitted by MatfillALS.fitPixels. */
  function readImage(im, height, width) {
    var w = im.naturalWidth, h = im.naturalHeight;
    var scale = Math.min(1, MAX_SOURCE_SIDE / Math.max(w, h));
    var cw = Math.max(1, Math.round(w * scale)), ch = Math.max(1, Math.round(h * scale));
    var canvas = document.createElement("canvas");
    canvas.width = cw;
    canvas.height = ch;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = "#ffffff";  // transparent pixels become white, as in mh.load_image
    ctx.fillRect(0, 0, cw, ch);
    ctx.drawImage(im, 0, 0, cw, ch);
    return root.MatfillALS.fitPixels(ctx.getImageData(0, 0, cw, ch).data, ch, cw, height, width);
  }

  /**
   * Runs explorer jobs: in a Web Worker made from the source of als.js when one can start,
   * otherwise in the page, one sweep per task. run(job, onStep) returns a Promise of
   * { result, seconds }; a new run cancels the one in flight (its Promise rejects with
   * { cancelled: true }). The worker lives as long as the page, so its compiled code stays warm.
   */
  function makeRunner(alsSource) {
    var url = null, worker = null, current = null, nextId = 0;

    function spawn() {
      var w = new Worker(url);
      w.onmessage = function (event) {
        var msg = event.data;
        if (!current || msg.id !== current.id) return;
        if (msg.type === "progress") current.onStep(msg.step);
        else if (msg.type === "result") finish(null, { result: msg.result, seconds: msg.seconds });
        else finish(new Error(msg.message));
      };
      w.onerror = function (event) {  // the worker could not start or crashed: go on in the page
        event.preventDefault();
        w.terminate();
        worker = null;
        if (current) runInPage(current);
      };
      return w;
    }

    try {
      var code = [alsSource, "\nMatfillALS.serveWorker(self);\n"];
      url = URL.createObjectURL(new Blob(code, { type: "text/javascript" }));
      worker = spawn();
    } catch (err) {
      worker = null;  // no Worker or no Blob URL here: compute in the page
    }

    function finish(err, value) {
      var job = current;
      current = null;
      if (err) job.reject(err);
      else job.resolve(value);
    }

    var later = root.MatfillALS.taskQueue();

    function runInPage(job) {
      var t0 = performance.now(), ALS = root.MatfillALS;
      ALS.runInTasks(
        ALS.exploreSteps(job.img, job.height, job.width, job.setting),
        job.onStep,  // the page draws and reacts between two sweeps
        function (err, result) {
          if (err) finish(err);
          else finish(null, { result: result, seconds: (performance.now() - t0) / 1000 });
        },
        function () { return current !== job; },  // cancelled
        later);
    }

    return {
      engine: function () { return worker ? "worker" : "page"; },
      /** Run a job in the worker without an answer, so its code is compiled before it counts. */
      warmUp: function (job) {
        if (worker && !current) {
          worker.postMessage({
            id: 0, img: job.img, height: job.height, width: job.width, setting: job.setting,
          });
        }
      },
      run: function (job, onStep) {
        if (current) {  // nobody waits for it any more (the worker drops it at its next step)
          var old = current;
          current = null;
          old.reject({ cancelled: true });
        }
        return new Promise(function (resolve, reject) {
          current = {
            id: ++nextId, img: job.img, height: job.height, width: job.width, setting: job.setting,
            onStep: onStep, resolve: resolve, reject: reject,
          };
          if (worker) {
            worker.postMessage({
              id: current.id, img: job.img, height: job.height, width: job.width,
              setting: job.setting,
            });
          } else {
            runInPage(current);
          }
        });
      },
    };
  }

  function start(uid) {
    var box = document.getElementById(uid);
    function el(name) { return document.getElementById(uid + "-" + name); }
    try {
      var data = JSON.parse(el("data").textContent);
      var H = data.height, W = data.width;
      var sample = {
        id: "sample", name: data.sampleName, img: decodePixels(data.pixels, H, W),
        url: el("original").src,
      };
      var source = sample, photos = 0, timer = null, shown = null;
      var cache = new Map();  // key -> entry, least recently used first
      var runner = makeRunner(el("als").textContent);

      var setState = function (state, text) {
        box.setAttribute("data-state", state);
        box.setAttribute("data-engine", runner.engine());
        el("progress").hidden = state !== "computing";
        el("status").textContent = text;
        el("status").classList.toggle("mfx-error", state === "error");
      };

      var requested = function () {
        var seedText = el("seed").value.trim(), seed = Number(seedText);
        var ok = /^\d+$/.test(seedText) && seed <= SEED_MAX;
        return {
          rank: parseInt(el("rank").value, 10), percent: parseInt(el("prop").value, 10),
          seed: ok ? seed : null,
        };
      };

      var showLabels = function (s) {
        el("rank-value").textContent = String(s.rank);
        el("prop-value").textContent = s.percent + " %";
        el("prop").setAttribute("aria-valuetext", s.percent + " percent");
      };

      var show = function (entry) {
        shown = entry;
        el("masked").src = entry.maskedURL;
        el("recon").src = entry.reconURL;
        el("rmse").textContent = fmt(entry.rmse, 4);
        el("psnr").textContent = fmt(entry.psnr, 2, " dB");
        el("rmse-missing").textContent = fmt(entry.rmseMissing, 4);
        el("psnr-missing").textContent = fmt(entry.psnrMissing, 2, " dB");
        var result = {
          rank: entry.rank, percent: entry.percent, seed: entry.seed, source: entry.source,
          rmse: entry.rmse, psnr: entry.psnr, rmseMissing: entry.rmseMissing,
          psnrMissing: entry.psnrMissing, sweeps: entry.sweeps, seconds: entry.seconds,
          computeSeconds: entry.computeSeconds, engine: entry.engine, cached: entry.cached,
        };
        box.setAttribute("data-result", JSON.stringify(result));
      };

      var statusText = function (entry) {
        if (entry.engine === "python") {
          return "Computed by the Python helpers when this page was built. Move a control to " +
            "recompute in your browser.";
        }
        var text = (entry.cached ? "Computed earlier" : "Computed") + " in your browser in " +
          entry.seconds.toFixed(2) + " s (" + entry.sweeps +
          (entry.sweeps === 1 ? " sweep" : " sweeps") + ").";
        var built = data.initial;
        if (entry.source === "sample" && entry.rank === data.rank &&
            entry.percent === data.percent && entry.seed === data.seed) {
          text += " The Python helpers got " + fmt(built.psnrMissing, 2, " dB") +
            " on the missing pixels for this setting.";
        }
        return text;
      };

      var maskedURLs = new Map();  // (source, percent, seed) -> PNG of the masked image

      var makeJob = function (src, s) {
        return {
          img: src.img, height: H, width: W,
          setting: {
            rank: s.rank, prop: s.percent / 100, seed: s.seed, ridge: data.options.ridge,
            maxSweeps: data.options.maxSweeps, tol: data.options.tol, centre: data.options.centre,
          },
        };
      };

      var update = function () {
        timer = null;
        var s = requested();
        showLabels(s);
        if (s.seed === null) {
          setState("error", "The seed must be a whole number from 0 to " + SEED_MAX + ".");
          return;
        }
        var key = [source.id, s.rank, s.percent, s.seed].join("/");
        if (cache.has(key)) {
          var hit = cache.get(key);
          cache.delete(key);
          cache.set(key, hit);
          hit.cached = true;
          show(hit);
          setState("done", statusText(hit));
          return;
        }
        var t0 = performance.now(), job = makeJob(source, s);
        var src = source;
        setState("computing", "Computing in your browser\u2026");
        runner.run(job, function (step) {
          setState("computing", step.stage === "start"
            ? "Computing in your browser\u2026 start done, sweeping"
            : "Computing in your browser\u2026 sweep " + step.sweep + " done");
        }).then(function (out) {
          var r = out.result, mkey = [src.id, s.percent, s.seed].join("/");
          if (!maskedURLs.has(mkey)) maskedURLs.set(mkey, imageURL(src.img, H, W, r.mask));
          var entry = {
            rank: s.rank, percent: s.percent, seed: s.seed, source: src.id,
            rmse: r.rmse, psnr: r.psnr, rmseMissing: r.rmseMissing, psnrMissing: r.psnrMissing,
            sweeps: r.sweeps, computeSeconds: out.seconds, engine: runner.engine(), cached: false,
            maskedURL: maskedURLs.get(mkey), reconURL: imageURL(r.recon, H, W, null),
          };
          entry.seconds = (performance.now() - t0) / 1000;
          cache.set(key, entry);
          while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value);
          show(entry);
          setState("done", statusText(entry));
        }).catch(function (err) {
          if (err && err.cancelled) return;
          report(uid, err);
          setState("error", "The computation failed: " + (err && err.message || err) + ".");
        });
      };

      var schedule = function () {
        showLabels(requested());
        if (timer !== null) clearTimeout(timer);
        timer = setTimeout(update, 40);  // one computation for a burst of key presses
      };

      var useSource = function (next) {
        source = next;
        el("original").src = next.url;
        el("original").alt = "original: " + next.name;
        el("source").textContent = next.id === "sample" ? "Image: " + next.name + "." :
          "Your photo: " + next.name + " (read in this page, not uploaded).";
        el("reset").disabled = next.id === "sample";
        update();
      };

      var loadFile = function (file) {
        if (!file) return;
        var fail = function (why) {
          setState("error", "Could not read \u201c" + file.name + "\u201d as an image" + why +
            ". Choose a PNG, JPEG, GIF or WebP file.");
        };
        if (file.type && !/^image\//.test(file.type)) {
          fail(" (it is " + file.type + ")");
          return;
        }
        setState("computing", "Reading \u201c" + file.name + "\u201d\u2026");
        var url = URL.createObjectURL(file), im = new Image();
        im.onload = function () {
          try {
            var img = readImage(im, H, W);
            photos += 1;
            useSource({
              id: "photo-" + photos, name: file.name, img: img, url: imageURL(img, H, W, null),
            });
          } catch (err) {
            fail(" (" + (err && err.message || err) + ")");
          } finally {
            URL.revokeObjectURL(url);
          }
        };
        im.onerror = function () {
          URL.revokeObjectURL(url);
          fail("");
        };
        im.src = url;
      };

      ["rank", "prop", "seed"].forEach(function (name) {
        el(name).addEventListener("input", schedule);
        el(name).addEventListener("change", schedule);
      });
      el("file").addEventListener("change", function () {
        loadFile(el("file").files[0]);
        el("file").value = "";  // choosing the same file again loads it again
      });
      el("reset").addEventListener("click", function () { useSource(sample); });
      box.addEventListener("dragover", function (event) {
        var types = event.dataTransfer ? event.dataTransfer.types : [];
        if (Array.prototype.indexOf.call(types, "Files") >= 0) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
          box.classList.add("mfx-dragging");
        }
      });
      box.addEventListener("dragleave", function (event) {
        if (!box.contains(event.relatedTarget)) box.classList.remove("mfx-dragging");
      });
      box.addEventListener("drop", function (event) {
        box.classList.remove("mfx-dragging");
        if (event.dataTransfer && event.dataTransfer.files.length) {
          event.preventDefault();
          loadFile(event.dataTransfer.files[0]);
        }
      });

      var first = {
        rank: data.rank, percent: data.percent, seed: data.seed, source: "sample",
        rmse: data.initial.rmse, psnr: data.initial.psnr, rmseMissing: data.initial.rmseMissing,
        psnrMissing: data.initial.psnrMissing, sweeps: data.initial.sweeps,
        seconds: data.initial.seconds,
        computeSeconds: data.initial.seconds, engine: "python", cached: false,
        maskedURL: el("masked").src, reconURL: el("recon").src,
      };
      show(first);
      showLabels(requested());
      setState("precomputed", statusText(first));
      box.setAttribute("data-ready", "true");
      setTimeout(function () {  // compile the maths while the reader is still reading
        var built = { rank: data.rank, percent: data.percent, seed: data.seed };
        runner.warmUp(makeJob(sample, built));
      }, 200);
    } catch (err) {
      report(uid, err);
    }
  }

  root.MatfillExplorer = { start: start };
})(self);
