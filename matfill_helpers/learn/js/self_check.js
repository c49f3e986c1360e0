/* Self-check questions (matfill_helpers.learn.self_check): answers checked in the page.
 *
 * Every output of self_check inlines this file. The first copy defines
 * window.matfillSelfCheck; later copies reuse it. Each copy then wires up the
 * questions of its own output (the element that holds the script), and a question
 * is wired up once: it is marked data-ready="true". Feedback goes into the
 * question's own live region (.self-check-feedback).
 */
(function (script) {
  "use strict";
  if (!window.matfillSelfCheck) {
    window.matfillSelfCheck = (function () {
      function report(root, err) {
        console.error("matfill self-check " + (root && root.id) + ": " + err);
      }

      function say(root, state, html) {
        root.setAttribute("data-state", state);
        var box = root.querySelector(".self-check-feedback");
        box.setAttribute("data-state", state);
        box.innerHTML = html;
      }

      function verdict(right) {
        return right
          ? '<strong class="self-check-verdict">\u2713 Right.</strong> '
          : '<strong class="self-check-verdict">\u2717 Not quite.</strong> ';
      }

      function explain(data) {
        return data.explanation
          ? '<p class="self-check-explanation">' + data.explanation + "</p>"
          : "";
      }

      function initChoice(root, data) {
        var buttons = root.querySelectorAll(".self-check-choice");
        Array.prototype.forEach.call(buttons, function (button) {
          button.addEventListener("click", function () {
            var i = parseInt(button.getAttribute("data-choice"), 10);
            var right = i === data.correct;
            Array.prototype.forEach.call(buttons, function (b) {
              b.setAttribute("aria-pressed", b === button ? "true" : "false");
            });
            button.setAttribute("data-picked", right ? "right" : "wrong");
            say(
              root,
              right ? "right" : "wrong",
              "<p>" + verdict(right) + data.feedback[i] + "</p>" +
                (right ? explain(data) : "")
            );
          });
        });
      }

      // "9830", "9 830", "9,830", "0,05" (a decimal comma), "1e-3", "−2"
      function parseNumber(text) {
        var t = String(text).trim().replace(/[\s\u00a0\u202f\u2009]/g, "");
        t = t.replace(/\u2212/g, "-");
        if (t.indexOf(",") >= 0) {
          if (t.indexOf(".") >= 0 || /^-?\d{1,3}(,\d{3})+$/.test(t)) {
            t = t.replace(/,/g, "");
          } else {
            t = t.replace(",", ".");
          }
        }
        if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return NaN;
        return parseFloat(t);
      }

      function near(x, target, tol) {
        return Math.abs(x - target) <= tol + 1e-9 * Math.max(1, Math.abs(target));
      }

      function initNumber(root, data) {
        var form = root.querySelector(".self-check-form");
        var input = root.querySelector(".self-check-input");
        var unit = data.unit ? " " + data.unit : "";
        var worked =
          '<p class="self-check-explanation">' + data.explanation + "</p>";
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          var x = parseNumber(input.value);
          if (isNaN(x)) {
            say(root, "invalid",
              "<p>Type a number, such as 1234 or 0.05, then press Enter.</p>");
            return;
          }
          if (near(x, data.answer, data.tolerance)) {
            input.setAttribute("aria-invalid", "false");
            say(root, "right", "<p>" + verdict(true) + "The answer is " +
              data.shown + unit + ".</p>" + worked);
            return;
          }
          input.setAttribute("aria-invalid", "true");
          for (var k = 0; k < data.wrong.length; k++) {
            if (near(x, data.wrong[k].value, data.tolerance)) {
              say(root, "wrong",
                "<p>" + verdict(false) + data.wrong[k].feedback + "</p>");
              return;
            }
          }
          say(root, "wrong", "<p>" + verdict(false) + "Your answer is too " +
            (x > data.answer ? "high" : "low") + ". " + data.hint + "</p>");
        });
        root.querySelector(".self-check-reveal").addEventListener(
          "click",
          function () {
            say(root, "revealed", "<p><strong class=\"self-check-verdict\">" +
              "The answer:</strong> " + data.shown + unit + ".</p>" + worked);
          }
        );
      }

      function init(root) {
        if (!root || root.getAttribute("data-ready") === "true") return;
        try {
          var node = root.querySelector("script.self-check-data");
          var data = JSON.parse(node.textContent);
          if (data.kind === "choice") initChoice(root, data);
          else initNumber(root, data);
          root.setAttribute("data-ready", "true");
        } catch (err) {
          report(root, err);
        }
      }

      function initAll(host) {
        var roots = (host || document).querySelectorAll(".self-check");
        Array.prototype.forEach.call(roots, init);
      }

      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", function () {
          initAll(document);
        });
      }
      return { init: init, initAll: initAll, parseNumber: parseNumber };
    })();
  }
  // this output's questions: those beside the script (Jupyter may run the script
  // before its output is in the document), else every question not yet wired up
  var host = script && script.parentNode;
  window.matfillSelfCheck.initAll(host || document);
})(document.currentScript);
