--- :checkhealth codecomp
local compat = require("codecomp.compat")

local M = {}

local function fmt_ms(latency)
  if type(latency) ~= "table" or not latency.count or latency.count == 0 then
    return nil
  end
  return ("p50 %s ms, p95 %s ms over %d"):format(
    tostring(latency.p50),
    tostring(latency.p95),
    latency.count
  )
end

--- A JSON value, with null (vim.NIL) as nil.
local function value(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

--- What codecomp/models says about the catalog: the recommended model and the pulled ones.
local function check_catalog(health, codecomp, client)
  local response = compat.request_sync(client, codecomp.MODELS_METHOD, vim.empty_dict(), 5000)
  local catalog = response and not response.err and response.result or nil
  if type(catalog) ~= "table" then
    local why = response and response.err and response.err.message or "no answer"
    health.info("codecomp/models: " .. tostring(why))
    return nil
  end
  local pulled = {}
  for _, model in ipairs(catalog.models or {}) do
    -- downloaded: the server converts it when it first loads it
    if model.state == "installed" or model.state == "downloaded" then
      pulled[#pulled + 1] = model.name
    end
  end
  health.info(
    ("pulled catalog models: %s (in %s)"):format(
      #pulled > 0 and table.concat(pulled, ", ") or "none",
      tostring(value(catalog.modelsDir))
    )
  )
  return value(catalog.recommended)
end

--- The model in use, why, and a warning when the built-in fallback answers.
local function check_model_choice(health, codecomp, client, stats)
  local reason = value(stats.modelReason)
  if reason then
    health.info(("why this model: %s"):format(tostring(reason)))
  end
  local recommended = check_catalog(health, codecomp, client)
  local model_error = value(stats.modelError)
  if stats.modelFallback == true and stats.modelState ~= "failed" then
    local advice = {}
    if model_error then
      advice[#advice + 1] = ("the chosen model failed (%s): check setup{ model = ... }"):format(
        tostring(model_error)
      )
    end
    advice[#advice + 1] = recommended
        and (":CodecompPull pulls the recommended %s (or :CodecompPull NAME)"):format(recommended)
      or ":CodecompPull NAME pulls a catalog model"
    advice[#advice + 1] = "or in a shell: codecomp models pull " .. (recommended or "NAME")
    health.warn(
      ("the small built-in fallback model %s answers: its suggestions are weak"):format(
        tostring(value(stats.model))
      ),
      advice
    )
  elseif model_error and stats.modelState ~= "failed" then
    health.warn("model error: " .. tostring(model_error))
  end
end

local function check_version(health)
  local v = vim.version()
  local version = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") == 0 then
    health.error("Neovim " .. version .. " is too old: codecomp needs 0.10 or newer")
    return
  end
  local ghost = compat.has_native_inline() and "native vim.lsp.inline_completion"
    or "the plugin's extmarks"
  health.ok(("Neovim %s (ghost text: %s)"):format(version, ghost))
  if vim.fn.has("nvim-0.11") == 0 then
    health.info("menu completion needs 0.11 (vim.lsp.completion); use <C-x><C-o> on 0.10")
  end
end

local function check_executable(health, codecomp)
  local cmd = codecomp.config.cmd or {}
  local exe = cmd[1]
  if type(exe) ~= "string" or exe == "" then
    health.error("no server command configured (setup{ cmd = { 'codecomp-lsp' } })")
    return
  end
  if vim.fn.executable(exe) ~= 1 then
    health.error(
      ("server executable `%s` not found"):format(exe),
      { "pip install codecomp-lsp (or the repo: pip install -e .)", "set setup{ cmd = {...} }" }
    )
    return
  end
  local path = vim.fn.exepath(exe)
  local args = vim.deepcopy(cmd)
  args[1] = path
  -- `--version` only makes sense for the server itself, not for `python -m codecomp_lsp`.
  local version
  if vim.fs.basename(path):match("codecomp") and vim.system then
    local ok, result = pcall(function()
      return vim.system({ path, "--version" }, { text = true }):wait(10000)
    end)
    if ok and result and result.code == 0 then
      version = vim.trim((result.stdout or "") .. (result.stderr or ""))
    end
  end
  health.ok(
    ("server command: %s%s"):format(
      table.concat(args, " "),
      version and version ~= "" and (" (" .. version .. ")") or ""
    )
  )
end

local function check_client(health, codecomp, client)
  local buffers = {}
  for bufnr, _ in pairs(client.attached_buffers or {}) do
    buffers[#buffers + 1] = tostring(bufnr)
  end
  table.sort(buffers)
  local state = compat.is_stopped(client) and "stopped"
    or (client.initialized and "running" or "starting")
  local line = ("client %d %s, attached to buffer(s) %s"):format(
    client.id,
    state,
    #buffers > 0 and table.concat(buffers, ", ") or "none"
  )
  if state == "running" then
    health.ok(line)
  else
    health.warn(line)
    return
  end

  local response, err = compat.request_sync(client, codecomp.STATS_METHOD, vim.empty_dict(), 5000)
  if not response then
    health.error("codecomp/stats: no answer (" .. tostring(err) .. ")")
    return
  end
  if response.err then
    health.error("codecomp/stats failed: " .. tostring(response.err.message))
    return
  end
  local stats = response.result or {}
  local model = ("model: %s, device: %s, dtype: %s, template: %s"):format(
    tostring(stats.model),
    tostring(stats.device),
    tostring(stats.dtype),
    tostring(stats.template)
  )
  if stats.modelState == "ready" then
    health.ok(model .. (stats.modelFallback == true and " (ready, the built-in fallback)" or " (ready)"))
  elseif stats.modelState == "failed" then
    health.error(model .. " (failed: " .. tostring(stats.modelError) .. ")", {
      "check setup{ model = ... } or the --model argument",
      "the server log: :LspLog",
    })
  else
    health.warn(model .. " (" .. tostring(stats.modelState) .. ")")
  end
  check_model_choice(health, codecomp, client, stats)
  local counters = ("requests: %s, cancelled: %s, errors: %s, reused tokens: %s (ratio %s)"):format(
    tostring(stats.requests),
    tostring(stats.cancelled),
    tostring(stats.errors),
    tostring(stats.reusedTokens),
    tostring(stats.reuseRatio)
  )
  health.info(counters)
  for _, feature in ipairs({ "inline", "completion" }) do
    local latency = fmt_ms(type(stats.latencyMs) == "table" and stats.latencyMs[feature])
    if latency then
      health.info(feature .. " latency: " .. latency)
    end
  end
end

function M.check()
  local health = vim.health
  health.start("codecomp")
  check_version(health)

  local ok, codecomp = pcall(require, "codecomp")
  if not ok then
    health.error("cannot load the codecomp module: " .. tostring(codecomp))
    return
  end
  if codecomp._setup_done then
    health.ok("setup() called")
  else
    health.warn("setup() was not called", { 'require("codecomp").setup({ ... })' })
  end
  check_executable(health, codecomp)
  local settings = codecomp.server_settings()
  health.info(
    ("configured model: %s"):format(
      settings.model and tostring(settings.model) or "(server default)"
    )
  )

  health.start("codecomp: language server")
  local clients = compat.get_clients({ name = codecomp.name })
  if #clients == 0 then
    health.warn("no codecomp client is running", {
      "open a file of a configured filetype: " .. table.concat(codecomp.config.filetypes, ", "),
    })
    return
  end
  for _, client in ipairs(clients) do
    check_client(health, codecomp, client)
  end
end

return M
