// deepfit's page. One request per question (/api/answer, /api/plan, /api/compare,
// /api/train); every panel of an answer is drawn from that one reply, after a loading state,
// under a title that names the deployment. State lives in the URL. No inline code (CSP).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const GiB = 2 ** 30;
  const DEPLOY = ["model", "gpu", "gpus", "engine", "weights", "kv_dtype", "context",
    "concurrency", "input_len", "output_len", "tp", "pp"];
  const PLAN = ["ttft_s", "tpot_s", "rate", "budget", "objective", "max_gpus", "gpu_scope"];
  const TRAIN = ["method", "zero", "seq_len", "train_offload"];
  const VIEWS = ["size", "plan", "compare", "train"];
  const FLAGS = { "--context": "context", "--concurrency": "concurrency", "--gpus": "gpus",
    "--weights": "weights", "--kv-dtype": "kv_dtype", "--engine": "engine", "--tp": "tp",
    "--pp": "pp", "--gpu": "gpu", "--input-len": "input_len", "--output-len": "output_len",
    "--max-gpus": "max_gpus", "--budget": "budget", "--rate": "rate" };
  let lang = "en";
  let view = "size";
  let gpuList = [];
  const seq = { size: 0, plan: 0, compare: 0, train: 0 };

  // ---- words and numbers in the chosen language ----
  const T = (key, vars) => {
    const table = window.DEEPFIT_I18N[lang] || window.DEEPFIT_I18N.en;
    let s = table[key] !== undefined ? table[key] : window.DEEPFIT_I18N.en[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(v);
    return s;
  };
  const num = (v, digits) => new Intl.NumberFormat(lang, {
    minimumFractionDigits: digits || 0, maximumFractionDigits: digits || 0 }).format(v);
  const gib = (b) => num(b / GiB, 2) + " GiB";
  const ms = (s) => num(s * 1000, 1) + " ms";
  const tokens = (n) => num(n) + " " + T("tokens");

  function applyWords() {
    document.documentElement.lang = lang;
    document.title = T("title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = T(el.dataset.i18n);
    $("lang").value = lang;
  }

  // ---- state in the URL ----
  function fieldValues(names) {
    const v = {};
    for (const f of names) v[f] = $(f).value.trim();
    return v;
  }
  function saveState() {
    const q = new URLSearchParams();
    const names = DEPLOY.concat(view === "plan" ? PLAN : view === "train" ? TRAIN : []);
    for (const [k, v] of Object.entries(fieldValues(names))) if (v !== "") q.set(k, v);
    if (view === "compare") for (const g of checkedGpus()) q.append("cmp", g);
    q.set("view", view);
    q.set("lang", lang);
    history.replaceState(null, "", "?" + q);
  }

  // ---- requests and errors ----
  async function call(path, params, body) {
    const init = body ? { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(body) } : {};
    const r = await fetch(path + (params ? "?" + params : ""), init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) throw new Error(describeError(data, r.status));
    return data;
  }
  function fieldLabel(name) {
    const el = $(name);
    const label = el && el.closest("label");
    const span = label && label.querySelector("span");
    return span ? "“" + span.textContent + "”" : name;
  }
  function pageHint(text) {  // name the page's fields, not the CLI's flags
    return String(text || "").replace(/--[a-z-]+/g, (flag) =>
      FLAGS[flag] ? fieldLabel(FLAGS[flag]) : flag.replace(/^--/, ""));
  }
  function describeError(data, status) {
    if (data && data.error) {
      return pageHint(data.error) + (data.hint ? "\n" + pageHint(data.hint) : "");
    }
    if (data && Array.isArray(data.detail)) {
      return data.detail.map((d) => {
        const name = (d.loc || []).slice(-1)[0];
        return T("field_error", { field: $(name) ? fieldLabel(name) : name, msg: d.msg });
      }).join("\n");
    }
    return "HTTP " + status;
  }
  function showError(message) { $("error").textContent = message || ""; }

  // Marks a view busy, runs one request, and draws it only if no newer one was started.
  async function run(kind, what, request, draw) {
    const id = ++seq[kind];
    const status = $(kind + "-status");
    const box = $(kind === "size" ? "result" : kind + "result");
    showError("");
    box.hidden = true;
    box.setAttribute("aria-busy", "true");
    status.className = "status loading";
    status.textContent = T("loading", { what: T("loading_" + kind) });
    status.dataset.state = "loading";
    try {
      const data = await request();
      if (id !== seq[kind]) return;
      draw(data);
      box.hidden = false;
      status.className = "status";
      status.textContent = kind !== "size" && $("config").value.trim() ? T("config_sizing_only") : "";
      status.dataset.state = "done";
    } catch (err) {
      if (id !== seq[kind]) return;
      status.className = "status";
      status.textContent = "";
      status.dataset.state = "error";
      showError(err.message);
    } finally {
      if (id === seq[kind]) box.removeAttribute("aria-busy");
    }
    void what;
  }

  // ---- tables ----
  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  function rowTable(table, rows) {  // [label, value, raw] rows with row headers
    const body = table.tBodies[0];
    body.replaceChildren(...rows.map(([label, value, raw, cls]) => {
      const tr = el("tr");
      tr.append(el("th", label, { scope: "row" }));
      const td = el("td", value);
      if (raw !== undefined && raw !== null) td.dataset.value = raw;
      if (cls) td.className = cls;
      tr.append(td);
      return tr;
    }));
  }
  function gridTable(table, head, rows, rowClass) {
    if (!table.tHead) table.createTHead();
    const tr = el("tr");
    head.forEach((h) => tr.append(el("th", h, { scope: "col" })));
    table.tHead.replaceChildren(tr);
    table.tBodies[0].replaceChildren(...rows.map((cells, i) => {
      const r = el("tr");
      if (rowClass) r.className = rowClass(i);
      cells.forEach((c, j) => {  // a cell is text, or [text, columns it spans]
        const [text, span] = Array.isArray(c) ? c : [c, 1];
        const cell = j === 0 ? el("th", text, { scope: "row" }) : el("td", text);
        if (span > 1) { cell.colSpan = span; cell.className = "text"; }
        r.append(cell);
      });
      return r;
    }));
  }
  function list(ul, items) { ul.replaceChildren(...items.map((t) => el("li", t))); }

  // ---- the deployment question ----
  function deployParams() {
    const v = fieldValues(DEPLOY);
    const p = new URLSearchParams();
    for (const f of ["model", "gpu", "gpus", "engine", "weights", "kv_dtype", "context",
      "concurrency", "input_len", "output_len", "tp", "pp"]) if (v[f] !== "") p.set(f, v[f]);
    p.set("lang", lang);
    return p;
  }
  function pastedConfig() {
    const text = $("config").value.trim();
    if (!text) return null;
    try { return JSON.parse(text); } catch (e) { throw new Error(T("bad_json")); }
  }
  function size() {
    saveState();
    return run("size", "size", async () => {
      const config = pastedConfig();
      if (!config) return call("/api/answer", deployParams());
      const v = fieldValues(DEPLOY);
      const body = { config, gpu: v.gpu, gpus: +v.gpus || 1, engine: v.engine,
        weights: v.weights, kv_dtype: v.kv_dtype, concurrency: v.concurrency || "1",
        input_len: +v.input_len || 1024, output_len: +v.output_len || 256, pp: +v.pp || 1, lang };
      if (v.context) body.context = +v.context;
      if (v.tp) body.tp = +v.tp;
      return call("/api/answer", null, body);
    }, drawAnswer);
  }
  function drawAnswer(a) {
    const d = a.deployment;
    const mem = a.memory;
    const per = mem.per_gpu;
    $("title").textContent = T("deploy_title", { model: d.model, n: d.gpus, gpu: d.gpu,
      engine: d.engine, weights: d.weights, kv: d.kv_dtype, ctx: num(d.context_tokens) });
    const v = a.verdict;
    const short = gib(mem.shortfall_bytes);
    $("verdict").textContent = T("v_" + v.status, { conc: num(mem.max_concurrency),
      ctx: num(v.context_tokens), longest: num(mem.max_context_tokens), short, model: d.model,
      max: num(v.model_max_context_tokens || 0) });
    $("verdict").className = v.status === "fits" ? "fits" : v.status === "context" ? "warn" : "nofit";
    $("verdict").dataset.status = v.status;
    list($("reasons"), v.reasons);
    $("memory-chart").innerHTML = a.chart_svg;
    const rows = [
      [T("weights_row"), gib(per.weights_bytes), per.weights_bytes],
      [T("kv_row"), gib(per.kv_cache_bytes), per.kv_cache_bytes],
      [T("act_row"), gib(per.activations_bytes), per.activations_bytes],
      [T("overhead_row"), gib(per.overhead_bytes), per.overhead_bytes],
      [T("total_row"), gib(per.total_bytes), per.total_bytes],
      [T("gpu_mem_row"), gib(mem.gpu_memory_bytes), mem.gpu_memory_bytes],
    ];
    if (mem.shortfall_bytes > 0) rows.push([T("short_row"), short, mem.shortfall_bytes, "nofit"]);
    rows.push(
      [T("kv_token_row"), num(mem.kv_bytes_per_token) + " " + T("bytes"), mem.kv_bytes_per_token],
      [T("kv_pool_row"), tokens(mem.kv_capacity_tokens), mem.kv_capacity_tokens],
      [T("longest_row"), tokens(mem.max_context_tokens), mem.max_context_tokens],
      [T("at_once_row"), num(mem.max_concurrency), mem.max_concurrency]);
    rowTable($("numbers"), rows);
    $("numbers").dataset.total = per.total_bytes;
    list($("would-fit"), (a.would_fit || []).map((w) => w.why));
    drawPerf(a);
    drawOffload(a.offload);
    drawMatrix(a.matrix, d.weights);
    const launch = a.launch;
    $("command").textContent = launch.command ||
      pageHint(launch.error) + (launch.hint ? "\n" + pageHint(launch.hint) : "");
    $("command").dataset.concurrency = launch.concurrency || "";
    $("copy").hidden = !launch.command;
    $("copied").textContent = "";
    list($("notes"), a.notes.concat(launch.notes || []).map(pageHint));
  }
  function drawPerf(a) {
    const p = a.perf;
    $("perf-note").textContent = p ? pageHint(a.perf_note || "") : pageHint(a.perf_note) || T("no_speed");
    $("perf").hidden = !p;
    if (!p) { $("perf").dataset.tpot = ""; return; }
    rowTable($("perf"), [
      [T("at_conc"), num(p.concurrency), p.concurrency],
      [T("ttft"), ms(p.ttft_s), p.ttft_s],
      [T("tpot"), ms(p.tpot_s), p.tpot_s],
      [T("tok_s"), num(p.output_tokens_per_s), p.output_tokens_per_s],
      [T("bound"), p.bound], [T("source"), p.source]]);
    $("perf").dataset.tpot = p.tpot_s;
  }
  function drawOffload(options) {
    $("offload").hidden = !options || !options.length;
    if (!options || !options.length) return;
    const rows = [];
    for (const o of options) {
      rows.push([T(o.experts_on_host ? "experts_host" : "layers_split"),
        T("ngl") + " " + num(o.n_gpu_layers) + " / " + num(o.num_layers + 1)]);
      rows.push([T("gpu_part"), gib(o.gpu_bytes) + " / " + gib(o.gpu_memory_bytes), o.gpu_bytes]);
      rows.push([T("host_ram"), gib(o.host_bytes), o.host_bytes]);
    }
    rowTable($("offload-table"), rows);
  }
  function drawMatrix(rows, chosen) {
    gridTable($("matrix"), [T("m_format"), T("m_gib"), T("m_fits"), T("m_conc"), T("m_tpot"),
      T("m_tok")], rows.map((r) => r.supported ? [r.weights, num(r.weights_bytes / GiB, 2),
      r.fits ? T("yes") : T("no"), num(r.max_concurrency),
      r.tpot_s == null ? "–" : ms(r.tpot_s),
      r.output_tokens_per_s == null ? "–" : num(r.output_tokens_per_s)]
      : [r.weights, [T("not_supported") + ": " + pageHint(r.error), 5]]),
      (i) => rows[i].weights === chosen ? "best" : "");
  }

  // ---- the planner ----
  function plan() {
    saveState();
    return run("plan", "plan", async () => {
      const v = fieldValues(DEPLOY.concat(PLAN));
      const p = new URLSearchParams({ model: v.model, engine: v.engine, objective: v.objective,
        input_len: v.input_len || "1024", output_len: v.output_len || "256",
        max_gpus: v.max_gpus || "16", lang });
      for (const f of ["ttft_s", "tpot_s", "rate", "budget"]) if (v[f]) p.set(f, v[f]);
      if (v.gpu_scope === "chosen") p.append("gpu", v.gpu);
      return call("/api/plan", p);
    }, drawPlan);
  }
  function drawPlan(res) {
    const w = res.workload;
    $("plan-title").textContent = T("plan_title", { model: res.model, i: num(w.input_len),
      o: num(w.output_len) });
    const money = (x, d) => x == null ? "–" : num(x, d);
    gridTable($("plan-table"), [T("p_rank"), T("p_gpus"), T("p_fmt"), T("p_par"), T("p_conc"),
      T("p_ttft"), T("p_tpot"), T("p_tok"), T("p_usd"), T("p_usd_m")],
      res.plans.map((p, i) => [String(i + 1), p.gpus + " × " + p.gpu, p.weights + "/" + p.kv_dtype,
        [p.tp, p.pp, p.ep, p.dp].join("/"), num(p.concurrency), ms(p.ttft_s), ms(p.tpot_s),
        num(p.output_tokens_per_s), money(p.usd_per_hour, 2), money(p.usd_per_million_tokens, 3)]),
      (i) => i === 0 ? "best" : "");
    $("plan-why").textContent = res.plans.length ? T("why1", { why: res.plans[0].why }) : T("nothing");
    $("plan-why").className = res.plans.length ? "fits" : "nofit";
    drawDisagg(res.disaggregated);
    $("pareto").innerHTML = res.chart_svg;
    const groups = {};
    for (const r of res.rejected) (groups[r.kind] = groups[r.kind] || []).push(r);
    const box = $("rejected");
    box.replaceChildren();
    if (!res.rejected.length) box.append(el("p", T("none_rejected"), { class: "muted" }));
    for (const [kind, items] of Object.entries(groups)) {
      const det = el("details");
      if (!res.plans.length) det.open = true;
      const key = "kind_" + kind;
      det.append(el("summary", (window.DEEPFIT_I18N.en[key] ? T(key) : T("kind_other")) + " · " +
        T("n_cand", { n: num(items.length) })));
      const ul = el("ul");
      items.forEach((r) => ul.append(el("li", r.candidate + ": " + pageHint(r.reason))));
      det.append(ul);
      box.append(det);
    }
  }

  // the P:D split against aggregated serving (only asked with a rate and both targets)
  function drawDisagg(d) {
    let box = $("plan-disagg");
    if (!box) {
      box = el("p", "", { id: "plan-disagg", role: "status" });
      $("plan-why").after(box);
    }
    box.hidden = !d;
    if (!d) return;
    box.textContent = T("disagg_line", { gpu: d.gpu, verdict: d.verdict || T("disagg_none"),
      reason: d.reason });
  }

  // ---- compare GPUs ----
  function checkedGpus() {
    return [...document.querySelectorAll("#compare-gpus input:checked")].map((i) => i.value);
  }
  function compare() {
    saveState();
    const chosen = checkedGpus();
    if (!chosen.length) { showError(T("compare_none")); return Promise.resolve(); }
    return run("compare", "compare", () => {
      const p = deployParams();
      p.delete("gpu"); p.delete("tp"); p.delete("pp"); p.delete("lang");
      chosen.forEach((g) => p.append("gpu", g));
      return call("/api/compare", p);
    }, drawCompare);
  }
  function drawCompare(res) {
    $("compare-title").textContent = T("compare_title", { model: res.model, n: $("gpus").value });
    gridTable($("compare-table"), [T("c_gpu"), T("c_mem"), T("c_verdict"), T("c_total"),
      T("c_conc"), T("c_ttft"), T("c_tpot"), T("c_tok")], res.rows.map((r) => r.error
      ? [r.gpu, "–", pageHint(r.error), "–", "–", "–", "–", "–"]
      : [r.gpu, gib(r.gpu_memory_bytes), T("s_" + r.status), gib(r.total_bytes),
        num(r.max_concurrency), r.ttft_s == null ? "–" : ms(r.ttft_s),
        r.tpot_s == null ? "–" : ms(r.tpot_s),
        r.output_tokens_per_s == null ? "–" : num(r.output_tokens_per_s)]),
      (i) => res.rows[i].status === "fits" ? "" : "muted");
  }

  // ---- training ----
  function train() {
    saveState();
    return run("train", "train", () => {
      const v = fieldValues(DEPLOY.concat(TRAIN));
      return call("/api/train", new URLSearchParams({ model: v.model, gpu: v.gpu,
        gpus: v.gpus || "1", method: v.method, zero: v.zero, seq_len: v.seq_len || "4096",
        offload: v.train_offload }));
    }, drawTrain);
  }
  function drawTrain(t) {
    const method = $("method").selectedOptions[0].textContent;
    $("train-title").textContent = T("train_title", { method, model: t.model.id, n: t.gpus, gpu: t.gpu });
    $("train-verdict").textContent = t.fits ? T("train_fits") : T("train_nofit");
    $("train-verdict").className = t.fits ? "fits" : "nofit";
    const p = t.per_gpu;
    rowTable($("train-table"), [
      [T("t_trainable"), num(t.trainable_params), t.trainable_params],
      [T("t_weights"), gib(p.weights_bytes), p.weights_bytes],
      [T("t_grads"), gib(p.gradients_bytes), p.gradients_bytes],
      [T("t_opt"), gib(p.optimizer_bytes), p.optimizer_bytes],
      [T("t_act"), gib(p.activations_bytes), p.activations_bytes],
      [T("t_total"), gib(p.total_bytes), p.total_bytes],
      [T("gpu_mem_row"), gib(t.gpu_memory_bytes), t.gpu_memory_bytes],
      [T("host_ram"), gib(t.host_bytes), t.host_bytes],
      [T("t_tok"), num(t.tokens_per_s), t.tokens_per_s]]);
  }

  // ---- views, copying, live updates ----
  const RUN = { size, plan, compare, train };
  function show(name, focus) {
    view = VIEWS.includes(name) ? name : "size";
    for (const v of VIEWS) {
      const tab = $("tab-" + v);
      tab.setAttribute("aria-selected", String(v === view));
      tab.tabIndex = v === view ? 0 : -1;
      $("view-" + v).hidden = v !== view;
    }
    if (focus) $("tab-" + view).focus();
    saveState();
  }
  async function copyText(text, statusEl, okKey) {
    try {
      await navigator.clipboard.writeText(text);
      statusEl.textContent = T(okKey);
    } catch (err) {
      statusEl.textContent = T("copy_failed");
    }
  }
  let timer = null;
  function knownModel(name) {  // a catalogue alias or id (live updates wait for one)
    const key = name.trim().toLowerCase();
    return [...$("models").options].some((o) => o.value.toLowerCase() === key ||
      o.label.split(" · ")[0].toLowerCase() === key);
  }
  function liveUpdate(event) {
    if (view !== "size" || !$("live").checked) return;
    if (event && event.target === $("model") && !knownModel($("model").value)) return;
    clearTimeout(timer);
    timer = setTimeout(size, 500);
  }

  async function init() {
    const q = new URLSearchParams(location.search);
    const stored = q.get("lang") || (navigator.language || "").startsWith("zh") && "zh-CN" || "en";
    lang = window.DEEPFIT_I18N[stored] ? stored : "en";
    applyWords();
    const [models, gpus, choices] = await Promise.all([call("/api/models"), call("/api/gpus"),
      call("/api/choices")]);
    const usable = models.models.filter((m) => m.params_total != null);
    $("models").replaceChildren(...usable.map((m) => el("option", null, {
      value: m.aliases[0] || m.id,
      label: m.id + " · " + num(m.params_total / 1e9, 1) + "B" })));
    const offline = models.models.filter((m) => m.params_total == null).map((m) => m.id);
    $("offline-models").hidden = !offline.length;
    $("offline-list").textContent = offline.join(", ");
    gpuList = gpus.gpus;
    $("gpu").replaceChildren(...gpuList.map((g) => el("option",
      gpuLabel(g), { value: g.aliases[0] || g.name })));
    $("weights").replaceChildren(...choices.weights.map((w) => el("option",
      w === "auto" ? T("native_fmt") : w, { value: w })));
    $("kv_dtype").replaceChildren(...choices.kv_dtypes.map((w) => el("option", w, { value: w })));
    const preset = ["H100", "H200", "A100-80GB", "L40S", "RTX 4090", "B200"];
    $("compare-gpus").replaceChildren(...gpuList.map((g) => {
      const value = g.aliases[0] || g.name;
      const label = el("label", null, { class: "check" });
      const box = el("input", null, { type: "checkbox", value });
      box.checked = q.getAll("cmp").length ? q.getAll("cmp").includes(value)
        : preset.some((p) => g.aliases.includes(p) || g.name === p);
      label.append(box, el("span", gpuLabel(g)));
      return label;
    }));
    for (const f of DEPLOY.concat(PLAN, TRAIN)) if (q.has(f)) $(f).value = q.get(f);
    $("gpu").value = gpuValue(q.get("gpu") || "H200");
    wire();
    show(q.get("view") || "size");
    if (q.has("model") || !q.toString()) RUN[view]();
  }

  function gpuLabel(g) {  // the name and the memory size the vendor quotes (decimal GB)
    return g.memory_bytes ? g.name + " · " + num(g.memory_bytes / 1e9) + " GB" : g.name;
  }
  function gpuValue(name) {  // the option for a GPU named by its name or any alias
    const key = name.trim().toLowerCase();
    const g = gpuList.find((x) => x.name.toLowerCase() === key ||
      x.aliases.some((a) => a.toLowerCase() === key)) || gpuList[0];
    return g.aliases[0] || g.name;
  }

  function wire() {
    $("lang").addEventListener("change", () => {
      lang = $("lang").value;
      applyWords();
      const w = $("weights").querySelector("option[value=auto]");
      if (w) w.textContent = T("native_fmt");
      RUN[view]();
    });
    $("run").addEventListener("click", size);
    $("planform").addEventListener("submit", (e) => { e.preventDefault(); plan(); });
    $("trainform").addEventListener("submit", (e) => { e.preventDefault(); train(); });
    $("compare-run").addEventListener("click", compare);
    $("deploy").addEventListener("submit", (e) => { e.preventDefault(); RUN[view](); });
    $("deploy").addEventListener("input", liveUpdate);
    $("deploy").addEventListener("change", liveUpdate);
    $("copy").addEventListener("click", () => copyText($("command").textContent, $("copied"), "copied"));
    $("link").addEventListener("click", () => { saveState(); copyText(location.href, $("link-status"), "link_copied"); });
    $("config-file").addEventListener("change", async () => {
      const file = $("config-file").files[0];
      if (file && file.size < (1 << 20)) { $("config").value = await file.text(); liveUpdate(); }
    });
    const tabs = VIEWS.map((v) => $("tab-" + v));
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => show(VIEWS[i]));
      tab.addEventListener("keydown", (e) => {
        const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (step) { e.preventDefault(); show(VIEWS[(i + step + VIEWS.length) % VIEWS.length], true); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    init().catch((err) => showError(err.message));
  });
})();
