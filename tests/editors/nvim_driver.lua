-- Headless Neovim test driver: the codecomp plugin against the real server.
--
-- nvim --headless --clean -u nvim_driver.lua sample.py, with
--   CODECOMP_TEST_PLUGIN   editors/nvim
--   CODECOMP_TEST_CMD      the server command as a JSON list
--   CODECOMP_TEST_MODEL    the model directory
--   CODECOMP_TEST_RESULTS  file that gets one JSON object per step
--   CODECOMP_TEST_TIMEOUT  seconds before the watchdog quits (default 80)
--   CODECOMP_TEST_STEPS    the steps to run, comma-separated (default: all but the fallback's)
--
-- Everything waits with libuv timers (vim.wait would stop fed keys from being processed) inside one
-- coroutine; each step has its own timeouts and reports {"step": ..., "error": ...} on failure.
local api = vim.api
local uv = vim.uv

local results_path = assert(vim.env.CODECOMP_TEST_RESULTS, "CODECOMP_TEST_RESULTS not set")

local function emit(record)
  local f = assert(io.open(results_path, "a"))
  f:write(vim.json.encode(record), "\n")
  f:close()
end

vim.opt.rtp:prepend(assert(vim.env.CODECOMP_TEST_PLUGIN))
vim.o.swapfile = false
vim.o.completeopt = "menuone,noinsert"
vim.o.expandtab = false
vim.o.autoindent = true

local codecomp = require("codecomp")
codecomp.setup({
  cmd = vim.json.decode(assert(vim.env.CODECOMP_TEST_CMD)),
  model = vim.env.CODECOMP_TEST_MODEL,
  settings = { maxNewTokens = 24, candidates = 3, timeBudgetMs = 10000 },
  ghost_text = { debounce_ms = 60 },
  completion = { enabled = true, autotrigger = false },
})
local ghost = require("codecomp.ghost")

-- Waiting ------------------------------------------------------------------------------------------

--- Yields the driver coroutine until pred() returns a truthy value (returned) or timeout (nil).
local function wait_until(pred, timeout_ms, interval_ms)
  local co = assert(coroutine.running(), "wait_until outside the driver coroutine")
  local deadline = uv.now() + timeout_ms
  local timer = uv.new_timer()
  local finished = false
  local function finish(...)
    finished = true
    timer:stop()
    timer:close()
    local ok, err = coroutine.resume(co, ...)
    if not ok then
      emit({ step = "driver", error = "coroutine: " .. tostring(err) })
    end
  end
  timer:start(
    interval_ms or 25,
    interval_ms or 25,
    vim.schedule_wrap(function()
      if finished then
        return
      end
      local ok, value = pcall(pred)
      if not ok then
        finish(nil, "predicate failed: " .. tostring(value))
      elseif value then
        finish(value)
      elseif uv.now() >= deadline then
        finish(nil, "timeout")
      end
    end)
  )
  return coroutine.yield()
end

local function sleep(ms)
  local until_ms = uv.now() + ms
  wait_until(function()
    return uv.now() >= until_ms
  end, ms + 1000)
end

--- An asynchronous request that yields until its answer: { err =, result = } or nil on timeout.
local function request(client, method, params, timeout_ms, bufnr)
  local response
  local ok = client:request(method, params, function(err, result)
    response = { err = err, result = result }
  end, bufnr)
  if not ok then
    return nil, "request not sent"
  end
  local got, why = wait_until(function()
    return response
  end, timeout_ms or 15000)
  return got, why
end

local function feed(keys)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), "mt", false)
end

local function buf_lines(bufnr)
  return api.nvim_buf_get_lines(bufnr, 0, -1, false)
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return { pos[1] - 1, pos[2] }
end

--- The ghost text painted in the plugin's namespace, rebuilt from its extmarks.
local function painted(bufnr)
  local marks = api.nvim_buf_get_extmarks(bufnr, ghost.ns, 0, -1, { details = true })
  local out = {}
  for _, mark in ipairs(marks) do
    local details = mark[4]
    local parts = {}
    for _, chunk in ipairs(details.virt_text or {}) do
      if chunk[2] == "CodecompSuggestion" then
        parts[#parts + 1] = chunk[1]
      end
    end
    for _, line in ipairs(details.virt_lines or {}) do
      local text = {}
      for _, chunk in ipairs(line) do
        if chunk[2] == "CodecompSuggestion" then
          text[#text + 1] = chunk[1]
        end
      end
      parts[#parts + 1] = "\n" .. table.concat(text)
    end
    out[#out + 1] = {
      row = mark[2],
      col = mark[3],
      text = table.concat(parts),
      pos = details.virt_text_pos,
    }
  end
  return out
end

local function counters(bufnr)
  local st = ghost.state(bufnr)
  return st and st.counters or {}
end

--- Types `attempts[i]` until the server's answer shows a suggestion (the model may answer nothing
--- at some spots). Returns once the request is answered, not on the first streamed update.
local function type_until_ghost(bufnr, attempts)
  for _, keys in ipairs(attempts) do
    local before = vim.deepcopy(counters(bufnr))
    feed(keys)
    -- Settled: nothing pending or scheduled, and an answer came (or typing matched a final one).
    local answered = wait_until(function()
      local st = ghost.state(bufnr)
      if not st or st.pending or st.scheduled then
        return false
      end
      return st.counters.responses > before.responses
        or (st.counters.typed_ahead > before.typed_ahead and st.final)
    end, 20000)
    if not answered then
      return false,
        ("no answer to inlineCompletion within 20 s after typing %q (state %s, line %q, mode %s)"):format(
          keys,
          vim.json.encode(ghost.state(bufnr) or {}),
          api.nvim_get_current_line(),
          api.nvim_get_mode().mode
        )
    end
    sleep(50)
    if codecomp.suggestion(bufnr) then
      return true, keys
    end
  end
  return false, "no suggestion after typing all attempts"
end

local function client_alive(client, bufnr)
  if client:is_stopped() then
    return false
  end
  for _, c in ipairs(vim.lsp.get_clients({ bufnr = bufnr, name = "codecomp" })) do
    if c.id == client.id then
      return true
    end
  end
  return false
end

local function plain_err(err)
  if not err then
    return nil
  end
  return { code = err.code, message = err.message }
end

-- Steps ------------------------------------------------------------------------------------------

local steps = {}

function steps.ready(ctx)
  local client = wait_until(function()
    local c = vim.lsp.get_clients({ bufnr = ctx.buf, name = "codecomp" })[1]
    return c and c.initialized and c
  end, 30000)
  if not client then
    return { error = "the codecomp client did not attach within 30 s" }
  end
  ctx.client = client
  local stats
  local started = uv.now()
  while uv.now() - started < 60000 do
    local response = request(client, "codecomp/stats", vim.empty_dict(), 10000)
    local state = response and response.result and response.result.modelState
    -- "idle" comes before the load starts, "pulling" and "loading" during it.
    if state == "ready" or state == "failed" then
      stats = response.result
      break
    end
    sleep(200)
  end
  if not stats then
    return { error = "the model did not finish loading" }
  end
  local caps = client.server_capabilities or {}
  return {
    model_state = stats.modelState,
    model = stats.model,
    model_error = stats.modelError,
    model_reason = stats.modelReason,
    model_fallback = stats.modelFallback,
    device = stats.device,
    ghost_attached = ghost.state(ctx.buf) ~= nil,
    native_inline = codecomp.native_inline(),
    stream_capability = vim.tbl_get(client.config, "capabilities", "experimental", "codecompCompletionStream"),
    init_options = client.config.init_options,
    inline_provider = caps.inlineCompletionProvider ~= nil,
    completion_provider = caps.completionProvider ~= nil,
  }
end

local function background_prefills(client)
  local stats = request(client, "codecomp/stats", vim.empty_dict(), 10000)
  return stats and stats.result and stats.result.backgroundPrefills or -1
end

-- The plugin reports where the cursor rests (codecomp/cursor); the server prefills there.
function steps.cursor(ctx)
  local client = ctx.client
  local before = background_prefills(client)
  api.nvim_win_set_cursor(0, { 3, 0 })
  vim.cmd("doautocmd <nomodeline> CursorMoved")
  -- Polled from the driver coroutine (a request yields, so it cannot run inside wait_until).
  local after = before
  local started = uv.now()
  while after <= before and uv.now() - started < 20000 do
    sleep(200)
    after = background_prefills(client)
  end
  return { before = before, after = after }
end

function steps.hover_code_action(ctx)
  local client = ctx.client
  -- On the call of list_files in `    files = list_files(".")`.
  for row, line in ipairs(buf_lines(ctx.buf)) do
    local col = line:find("= list_files", 1, true)
    if col then
      api.nvim_win_set_cursor(0, { row, col + 1 })
      break
    end
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local hover, hover_why = request(client, "textDocument/hover", params, 15000, ctx.buf)
  local action_params = {
    textDocument = params.textDocument,
    range = { start = params.position, ["end"] = params.position },
    context = { diagnostics = {} },
  }
  local action, action_why =
    request(client, "textDocument/codeAction", action_params, 15000, ctx.buf)
  local stats = request(client, "codecomp/stats", vim.empty_dict(), 10000)
  local caps = client.server_capabilities or {}
  return {
    position = params.position,
    hover_answered = hover ~= nil,
    hover_timeout = hover_why,
    hover_error = hover and plain_err(hover.err),
    hover_result = hover and hover.result,
    code_action_answered = action ~= nil,
    code_action_timeout = action_why,
    code_action_error = action and plain_err(action.err),
    code_action_result = action and action.result,
    hover_provider = caps.hoverProvider,
    code_action_provider = caps.codeActionProvider,
    still_attached = client_alive(client, ctx.buf),
    stats_after = stats and stats.result and stats.result.modelState or nil,
  }
end

function steps.ghost_accept(ctx)
  local buf = ctx.buf
  feed("G")
  wait_until(function()
    return api.nvim_win_get_cursor(0)[1] == api.nvim_buf_line_count(buf)
  end, 2000)
  local marks_before_typing = #painted(buf)
  feed("A")
  wait_until(function()
    return api.nvim_get_mode().mode == "i"
  end, 2000)
  local ok, why = type_until_ghost(buf, { " = ", "len(", "x", " + ", "1" })
  local record = {
    marks_before_typing = marks_before_typing,
    counters_shown = counters(buf),
  }
  if not ok then
    record.error = why
    return record
  end
  record.suggestion = codecomp.suggestion(buf)
  record.painted = painted(buf)
  record.before = buf_lines(buf)
  record.cursor = cursor()
  -- Accept with the real keymap.
  local tick = api.nvim_buf_get_changedtick(buf)
  feed("<Tab>")
  local changed = wait_until(function()
    return api.nvim_buf_get_changedtick(buf) ~= tick
  end, 5000)
  sleep(50)
  record.accepted = changed ~= nil
  record.after = buf_lines(buf)
  record.cursor_after = cursor()
  record.painted_after = painted(buf)
  record.counters = counters(buf)
  return record
end

function steps.ghost_partial(ctx)
  local buf = ctx.buf
  feed("<End><CR>")
  sleep(150)
  local ok, why = type_until_ghost(buf, { "value = ", "os.", "name", "(", " + ", "1" })
  if not ok then
    return { error = why }
  end
  local record = {}

  -- Next candidate: asks the server for all candidates (trigger kind Invoked).
  local shown = codecomp.suggestion(buf)
  local before_next = counters(buf).responses
  feed("<M-]>")
  wait_until(function()
    return counters(buf).responses > before_next and not ghost.state(buf).pending
  end, 20000)
  sleep(50)
  local st = ghost.state(buf)
  record.cycle = {
    before = shown,
    candidates = #st.items,
    index = st.index,
    after = codecomp.suggestion(buf),
  }
  if #st.items > 1 then
    feed("<M-[>")
    sleep(100)
    record.cycle.after_prev = codecomp.suggestion(buf)
    record.cycle.index_after_prev = ghost.state(buf).index
  end

  -- Accept one word.
  local suggestion = codecomp.suggestion(buf)
  if not suggestion then
    record.error = "the suggestion disappeared while cycling"
    return record
  end
  record.word = { suggestion = suggestion, before = buf_lines(buf), cursor = cursor() }
  local tick = api.nvim_buf_get_changedtick(buf)
  feed("<M-w>")
  wait_until(function()
    return api.nvim_buf_get_changedtick(buf) ~= tick
  end, 5000)
  sleep(100)
  record.word.after = buf_lines(buf)
  record.word.cursor_after = cursor()
  record.word.rest = codecomp.suggestion(buf)
  record.word.painted_rest = painted(buf)

  -- Dismiss whatever is shown (get a new suggestion first if the word took all of it).
  if not codecomp.suggestion(buf) then
    local again, again_why = type_until_ghost(buf, { " ", "x", " + ", "1" })
    if not again then
      record.dismiss = { error = again_why }
      return record
    end
  end
  local lines = buf_lines(buf)
  feed("<C-]>")
  local hidden = wait_until(function()
    return #painted(buf) == 0 and not codecomp.suggestion(buf)
  end, 3000)
  record.dismiss = {
    hidden = hidden ~= nil,
    buffer_unchanged = vim.deep_equal(lines, buf_lines(buf)),
  }

  -- <Tab> with nothing shown keeps its own meaning.
  local line_before = api.nvim_get_current_line()
  feed("<Tab>")
  wait_until(function()
    return api.nvim_get_current_line() ~= line_before
  end, 3000)
  record.tab_fallback = { before = line_before, after = api.nvim_get_current_line() }
  record.counters = counters(buf)
  return record
end

function steps.completion(ctx)
  local buf, client = ctx.buf, ctx.client
  -- Ghost text stays on: its automatic requests must wait for the menu's (same document).
  codecomp.enable_completion(buf, { autotrigger = true })
  feed("<Esc>")
  wait_until(function()
    return api.nvim_get_mode().mode == "n"
  end, 2000)
  feed("Goresult = list_files(")
  local typed = wait_until(function()
    return api.nvim_get_current_line():find("list_files%(", 1, false) ~= nil
  end, 3000)
  local record = { typed = typed ~= nil }

  -- The native menu, opened by the autotrigger on "(" (or by vim.lsp.completion.get()).
  local function menu_items()
    local info = vim.fn.complete_info({ "items", "selected" })
    return #info.items > 0 and info or nil
  end
  local info = wait_until(menu_items, 20000)
  record.menu_via = info and "autotrigger" or nil
  if not info then
    vim.lsp.completion.get()
    info = wait_until(menu_items, 20000)
    record.menu_via = info and "completion.get" or nil
  end
  if not info then
    record.menu = { error = "the completion menu never got items" }
  else
    local line_before = api.nvim_get_current_line()
    record.menu = {
      count = #info.items,
      words = vim.tbl_map(function(item)
        return item.word
      end, info.items),
      selected = info.selected,
      line_before = line_before,
      cursor_before = cursor(),
    }
    local index = (info.selected >= 0 and info.selected or 0) + 1
    record.menu.accepted_word = info.items[index].word
    record.menu.accepted_item = vim.tbl_get(info.items[index], "user_data", "nvim", "lsp", "completion_item")
    feed(info.selected >= 0 and "<C-y>" or "<C-n><C-y>")
    wait_until(function()
      return #vim.fn.complete_info({ "items" }).items == 0
    end, 3000)
    sleep(150)
    record.menu.line_after = api.nvim_get_current_line()
    record.menu.cursor_after = cursor()
    record.menu.lines_after = buf_lines(buf)
  end

  -- A direct request.
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = 1 }
  local direct = request(client, "textDocument/completion", params, 20000, buf)
  local items = direct and direct.result and (direct.result.items or direct.result) or {}
  record.direct = {
    answered = direct ~= nil,
    error = direct and plain_err(direct.err),
    count = #items,
    first = items[1] and { label = items[1].label, textEdit = items[1].textEdit },
  }
  record.counters = counters(buf)
  return record
end

function steps.health(ctx)
  feed("<Esc>")
  wait_until(function()
    return api.nvim_get_mode().mode == "n"
  end, 2000)
  local source_win = api.nvim_get_current_win()
  vim.cmd("checkhealth codecomp")
  local health_buf = api.nvim_get_current_buf()
  local lines = wait_until(function()
    local l = buf_lines(health_buf)
    local text = table.concat(l, "\n")
    if text:find("codecomp: language server", 1, true) and text:find("model:", 1, true) then
      return l
    end
  end, 15000)
  lines = lines or buf_lines(health_buf)
  local record = { lines = lines, filetype = vim.bo[health_buf].filetype }
  pcall(vim.cmd, "tabclose")
  if api.nvim_win_is_valid(source_win) then
    api.nvim_set_current_win(source_win)
  end
  record.back_in_source = api.nvim_get_current_buf() == ctx.buf
  return record
end

--- :CodecompPull (named, unknown, default) and codecomp.pull() with its $/progress. Only the built-in
--- codecomp-tiny is ever pulled: nothing is downloaded.
function steps.pull(ctx)
  local client = ctx.client
  local record = { refused = {} }
  local allowed = { ["codecomp-tiny"] = true, ["no-such-model"] = true }
  local own_request = rawget(client, "request")
  local real_request = client.request
  client.request = function(self, method, params, ...)
    if method == "codecomp/pullModel" and not allowed[type(params) == "table" and params.name or ""] then
      record.refused[#record.refused + 1] = vim.inspect(params)
      return false
    end
    return real_request(self, method, params, ...)
  end
  local notes = {}
  local real_notify = vim.notify
  vim.notify = function(msg, level)
    notes[#notes + 1] = { msg = tostring(msg), level = level or vim.log.levels.INFO }
  end
  local titles = {}
  local progress_id = api.nvim_create_autocmd("LspProgress", {
    callback = function(args)
      local value = vim.tbl_get(args, "data", "params", "value") or {}
      if value.kind == "begin" then
        titles[#titles + 1] = value.title
      end
    end,
  })
  local function restore()
    vim.notify = real_notify
    client.request = own_request
    pcall(api.nvim_del_autocmd, progress_id)
  end

  local ok, err = pcall(function()
    -- Completion of catalog names from codecomp/models.
    record.completion = vim.fn.getcompletion("CodecompPull ", "cmdline")
    record.completion_prefix = vim.fn.getcompletion("CodecompPull codecomp-", "cmdline")

    --- Runs an Ex command and waits for the first message after it that ends the pull.
    local function pull_command(cmd)
      local first = #notes + 1
      vim.cmd(cmd)
      local outcome = wait_until(function()
        for i = first, #notes do
          local msg = notes[i].msg
          if msg:find(" is installed", 1, true) or msg:find("failed", 1, true) then
            return notes[i]
          end
        end
      end, 20000)
      return { outcome = outcome, notes = vim.list_slice(notes, first) }
    end

    record.named = pull_command("CodecompPull codecomp-tiny")
    record.unknown = pull_command("CodecompPull no-such-model")

    -- No name: the recommended model; here replaced by codecomp-tiny, which is built in.
    local real_models = codecomp.models
    codecomp.models = function(callback, ...)
      if not callback then
        return real_models(callback, ...)
      end
      return real_models(function(e, result)
        if type(result) == "table" then
          record.recommended = result.recommended
          result = vim.tbl_extend("force", result, { recommended = "codecomp-tiny" })
        end
        callback(e, result)
      end, ...)
    end
    local default_ok, default = pcall(pull_command, "CodecompPull")
    codecomp.models = real_models
    record.default = default_ok and default or { error = tostring(default) }

    -- The Lua API: the $/progress values of the pull, and the result.
    local values, result = {}, nil
    codecomp.pull("codecomp-tiny", {
      notify = false,
      on_progress = function(value)
        values[#values + 1] = { kind = value.kind, title = value.title, message = value.message }
      end,
      callback = function(e, r)
        result = { err = e and e.message, result = r }
      end,
    })
    record.api = {
      result = wait_until(function()
        return result
      end, 20000),
    }
    record.api.progress = values
    record.titles = titles
    local stats = request(client, "codecomp/stats", vim.empty_dict(), 10000)
    record.stats_after = stats and stats.result and {
      model = stats.result.model,
      model_state = stats.result.modelState,
      model_fallback = stats.result.modelFallback,
    }
  end)
  restore()
  if not ok then
    record.error = "pull step raised: " .. tostring(err)
  end
  record.notes = notes
  return record
end

function steps.shutdown(ctx)
  local clients = vim.lsp.get_clients()
  for _, client in ipairs(clients) do
    client:stop()
  end
  local stopped = wait_until(function()
    for _, client in ipairs(clients) do
      if not client:is_stopped() then
        return false
      end
    end
    return true
  end, 10000)
  if not stopped then
    for _, client in ipairs(clients) do
      client:stop(true)
    end
  end
  return { clients = #clients, stopped_cleanly = stopped ~= nil }
end

-- Refactor the loop of list_files: list the refactor.rewrite actions for the selected lines and
-- run Simplify (resolve, or the command where the client did not get lazy edits); the buffer is
-- put back afterwards so that later steps see the sample as written.
function steps.refactor(ctx)
  local client = ctx.client
  local before = buf_lines(ctx.buf)
  local first = 0
  for row, line in ipairs(before) do
    if line:find("for dirpath", 1, true) then
      first = row - 1
      break
    end
  end
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(ctx.buf),
    range = { start = { line = first, character = 0 }, ["end"] = { line = first + 3, character = 0 } },
    context = { diagnostics = {}, only = { "refactor.rewrite" } },
  }
  local listed, list_why = request(client, "textDocument/codeAction", params, 15000, ctx.buf)
  local titles, simplify = {}, nil
  for _, action in ipairs((listed and listed.result) or {}) do
    table.insert(titles, action.title)
    if action.title == "Simplify" then
      simplify = action
    end
  end
  local done, done_why, edit = nil, nil, nil
  if simplify and simplify.data then
    done, done_why = request(client, "codeAction/resolve", simplify, 60000, ctx.buf)
    edit = done and done.result and done.result.edit
    if edit then
      vim.lsp.util.apply_workspace_edit(edit, client.offset_encoding)
    end
  elseif simplify and simplify.command then
    done, done_why = request(client, "workspace/executeCommand", simplify.command, 60000, ctx.buf)
    edit = done and done.result and done.result.applied or nil
  end
  sleep(200)
  local after = buf_lines(ctx.buf)
  if edit then
    api.nvim_buf_set_lines(ctx.buf, 0, -1, false, before)
  end
  return {
    first = first,
    titles = titles,
    list_error = listed and plain_err(listed.err),
    list_timeout = list_why,
    answered = done ~= nil,
    timeout = done_why,
    error = done and plain_err(done.err),
    edited = edit ~= nil,
    lines_before = before,
    lines_after = after,
    still_attached = client_alive(client, ctx.buf),
  }
end

local ORDER = {
  "ready",
  "cursor",
  "hover_code_action",
  "refactor",
  "ghost_accept",
  "ghost_partial",
  "completion",
  "health",
  "pull",
}
if vim.env.CODECOMP_TEST_STEPS and vim.env.CODECOMP_TEST_STEPS ~= "" then
  ORDER = vim.split(vim.env.CODECOMP_TEST_STEPS, ",", { trimempty = true })
end

local function main()
  local ctx = { buf = api.nvim_get_current_buf() }
  emit({ step = "start", file = api.nvim_buf_get_name(ctx.buf), filetype = vim.bo[ctx.buf].filetype })
  for _, name in ipairs(ORDER) do
    local started = uv.now()
    local ok, record = pcall(steps[name], ctx)
    if not ok then
      record = { error = "step raised: " .. tostring(record) }
    end
    record = record or {}
    record.step = name
    record.ms = uv.now() - started
    emit(record)
    if name == "ready" and record.error then
      break
    end
  end
  local ok, record = pcall(steps.shutdown, ctx)
  record = ok and record or { error = tostring(record) }
  record.step = "shutdown"
  emit(record)
  emit({ step = "done" })
  vim.cmd("qa!")
end

-- A broken run fails instead of hanging.
local watchdog = uv.new_timer()
watchdog:start(
  (tonumber(vim.env.CODECOMP_TEST_TIMEOUT) or 80) * 1000,
  0,
  vim.schedule_wrap(function()
    emit({ step = "watchdog", error = "the driver did not finish in time" })
    for _, client in ipairs(vim.lsp.get_clients()) do
      client:stop(true)
    end
    vim.cmd("cquit 3")
  end)
)

api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    vim.schedule(function()
      local co = coroutine.create(main)
      local ok, err = coroutine.resume(co)
      if not ok then
        emit({ step = "driver", error = tostring(err) })
        vim.cmd("cquit 2")
      end
    end)
  end,
})
